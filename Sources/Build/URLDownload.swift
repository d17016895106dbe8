import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OCI

/// A file that ADD fetched from an http or https URL, kept in a temporary directory until
/// its layer is written.
struct URLDownload {
    /// The host path of the fetched data.
    let path: String
    let size: Int64
    let digest: Digest
    /// The response's Last-Modified time in seconds since the epoch, when it had one.
    let lastModified: Int64?

    /// Fetches `url` with one GET into `directory`, writing and hashing the body with
    /// `algorithm` as it arrives. A status other than 2xx, or a failed connection, is an error
    /// naming the Dockerfile line and the URL.
    static func fetch(
        _ url: String, into directory: String, at location: SourceLocation, algorithm: Digest.Algorithm = .sha256,
        timeout: TimeInterval = 300
    ) throws -> URLDownload {
        guard let address = URL(string: url), ["http", "https"].contains(address.scheme?.lowercased() ?? "") else {
            throw BuildError.fetchFailed(location, url: url, reason: "not a valid http or https URL")
        }
        let path = directory + "/download"
        let descriptor = try checkSyscall("open", path: path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { close(descriptor) }

        let receiver = Receiver(descriptor: descriptor, path: path, algorithm: algorithm)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: URLRequest(url: address)).resume()
        receiver.done.wait()

        if let response = receiver.response, !(200..<300).contains(response.statusCode) {
            throw BuildError.fetchFailed(location, url: url, reason: "HTTP status \(response.statusCode)")
        }
        if let failure = receiver.writeError {
            throw BuildError.fetchFailed(location, url: url, reason: failure.description)
        }
        if let error = receiver.error {
            throw BuildError.fetchFailed(location, url: url, reason: error.localizedDescription)
        }
        guard let response = receiver.response else {
            throw BuildError.fetchFailed(location, url: url, reason: "no HTTP response")
        }
        let lastModified = response.value(forHTTPHeaderField: "Last-Modified").flatMap(parseHTTPDate)
        return URLDownload(path: path, size: receiver.size, digest: receiver.hasher.finalize(), lastModified: lastModified)
    }

    /// The session delegate that writes a 2xx body to the open file and hashes it.
    private final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let descriptor: Int32
        let path: String
        let done = DispatchSemaphore(value: 0)
        var response: HTTPURLResponse?
        var error: (any Error)?
        var writeError: SystemError?
        var hasher: DigestHasher
        var size: Int64 = 0

        init(descriptor: Int32, path: String, algorithm: Digest.Algorithm) {
            self.descriptor = descriptor
            self.path = path
            hasher = DigestHasher(algorithm)
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            self.response = response as? HTTPURLResponse
            let success = self.response.map { (200..<300).contains($0.statusCode) } ?? false
            completionHandler(success ? .allow : .cancel)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard writeError == nil else { return }
            hasher.update(data)
            size += Int64(data.count)
            do {
                try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                    var offset = 0
                    while offset < buffer.count {
                        offset += try checkSyscall("write", path: path) {
                            Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                        }
                    }
                }
            } catch let failure as SystemError {
                writeError = failure
                dataTask.cancel()
            } catch {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            if response == nil { response = task.response as? HTTPURLResponse }
            self.error = error
            done.signal()
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
            completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
        ) {
            // swift-corelibs hands a 401 with a challenge only to this method, and with default
            // handling the task never completes. The 401 is kept so the build fails with its status.
            if let failure = challenge.failureResponse as? HTTPURLResponse { response = failure }
            completionHandler(.cancelAuthenticationChallenge, nil)
        }
    }

    /// Returns the name a download takes in a destination directory: the last component of the
    /// URL's path, as Docker names it. A Content-Disposition header is ignored.
    static func fileName(of url: String) -> String {
        let name = URL(string: url).map { $0.path }.flatMap { $0.split(separator: "/").last.map(String.init) } ?? ""
        return name.isEmpty ? "__unnamed__" : name
    }

    /// Parses an HTTP date in the preferred IMF-fixdate form, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}
