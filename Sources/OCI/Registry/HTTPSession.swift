import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Blocking HTTP requests over one `URLSession`, with the body of a successful response
/// handed to a closure chunk by chunk so that blobs go to disk without being held in memory.
///
/// Each session has its own serial delegate queue, which keeps the chunks of one response
/// in order. The registry client opens one session per concurrent transfer, so several blobs
/// are written in parallel.
final class HTTPSession: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// Error bodies and small responses are buffered up to this size; more is dropped.
    static let bufferLimit = 4 << 20

    private final class Exchange {
        let done = DispatchSemaphore(value: 0)
        let bodyHandler: ((HTTPURLResponse, Data) throws -> Void)?
        var response: HTTPURLResponse?
        /// A 401 response that URLSession turned into an authentication challenge.
        var challengeResponse: HTTPURLResponse?
        var body = Data()
        var error: (any Error)?
        var handlerError: (any Error)?

        init(bodyHandler: ((HTTPURLResponse, Data) throws -> Void)?) {
            self.bodyHandler = bodyHandler
        }
    }

    private let lock = NSLock()
    private var exchanges: [Int: Exchange] = [:]
    private var session: URLSession?

    init(timeout: TimeInterval = 120) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// Ends the session; URLSession keeps its delegate alive until then.
    func invalidate() {
        session?.finishTasksAndInvalidate()
        session = nil
    }

    deinit { session?.invalidateAndCancel() }

    /// Sends `request` and waits for the whole response.
    ///
    /// - Parameter bodyHandler: receives the body of a 2xx response in chunks; a throw
    ///   cancels the transfer and is rethrown here. Other responses are buffered.
    /// - Parameter deadline: seconds after which the exchange fails as timed out.
    func send(
        _ request: URLRequest, body: HTTPBody = .none, deadline: TimeInterval? = nil,
        bodyHandler: ((HTTPURLResponse, Data) throws -> Void)? = nil
    ) throws -> HTTPResponse {
        guard let session else { preconditionFailure("HTTPSession used after invalidate()") }
        let exchange = Exchange(bodyHandler: bodyHandler)
        let task: URLSessionTask
        switch body {
        case .none: task = session.dataTask(with: request)
        case .data(let data): task = session.uploadTask(with: request, from: data)
        }
        lock.withLock { exchanges[task.taskIdentifier] = exchange }
        task.resume()
        // URLSession enforces an idle timeout itself; `deadline` bounds the whole exchange for
        // callers that know it must be short, in case a completion never arrives.
        if let deadline, exchange.done.wait(timeout: .now() + deadline) == .timedOut {
            task.cancel()
            lock.withLock { _ = exchanges.removeValue(forKey: task.taskIdentifier) }
            throw HTTPTransportError(
                url: request.url ?? URL(fileURLWithPath: "/"), underlying: URLError(.timedOut), fromBodyHandler: false)
        }
        if deadline == nil { exchange.done.wait() }
        lock.withLock { _ = exchanges.removeValue(forKey: task.taskIdentifier) }

        let url = request.url ?? URL(fileURLWithPath: "/")
        if let handlerError = exchange.handlerError {
            throw HTTPTransportError(url: url, underlying: handlerError, fromBodyHandler: true)
        }
        if let error = exchange.error {
            throw HTTPTransportError(url: url, underlying: error, fromBodyHandler: false)
        }
        guard let response = exchange.response else {
            throw HTTPTransportError(url: url, underlying: URLError(.badServerResponse), fromBodyHandler: false)
        }
        return HTTPResponse(response: response, body: exchange.body)
    }

    private func exchange(for task: URLSessionTask) -> Exchange? {
        lock.withLock { exchanges[task.taskIdentifier] }
    }

    // MARK: - URLSessionDataDelegate

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        exchange(for: dataTask)?.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let exchange = exchange(for: dataTask), exchange.handlerError == nil else { return }
        if let response = exchange.response, (200..<300).contains(response.statusCode),
            let handler = exchange.bodyHandler
        {
            do {
                try handler(response, data)
            } catch {
                exchange.handlerError = error
                dataTask.cancel()
            }
            return
        }
        if exchange.body.count < Self.bufferLimit {
            exchange.body.append(data.prefix(Self.bufferLimit - exchange.body.count))
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let exchange = exchange(for: task) else { return }
        if let challenged = exchange.challengeResponse {
            exchange.response = challenged
            exchange.error = nil
        } else {
            if exchange.response == nil { exchange.response = task.response as? HTTPURLResponse }
            exchange.error = error
        }
        exchange.done.signal()
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        // The registry client handles 401 challenges itself. swift-corelibs (6.3) hands a 401
        // with a Basic challenge only to this method: with .performDefaultHandling the task
        // never completes, and otherwise it ends cancelled. So the 401 response is kept here
        // and returned in place of the cancellation.
        if let response = challenge.failureResponse as? HTTPURLResponse, let exchange = exchange(for: task) {
            exchange.challengeResponse = response
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        // Registries redirect blob downloads to storage on other hosts (S3, a CDN). The
        // registry's credentials must not travel there, so they are dropped whenever the
        // host, port or scheme changes.
        var redirected = request
        let from = task.originalRequest?.url
        let to = request.url
        if from?.host != to?.host || from?.port != to?.port || from?.scheme != to?.scheme {
            redirected.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(redirected)
    }
}
