import Foundation

/// A small HTTP/1.1 server on 127.0.0.1 for tests: it responds to requests itself or forwards
/// them to an upstream port (the test registry), and can rewrite what comes back. Every
/// connection carries one request and is closed after the response, which keeps the
/// forwarding a byte copy.
final class TestHTTPServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
    }

    struct Response {
        var status: Int
        var headers: [(String, String)] = []
        var body = Data()
    }

    enum Action {
        case respond(Response)
        /// Forwards upstream; the closure may change the raw response (status line, headers, body).
        case forward(rewrite: ((inout Data) -> Void)?)
    }

    let port: UInt16
    private let listener: Int32
    private let upstreamPort: UInt16?
    private let handler: (Request) -> Action
    private let lock = NSLock()
    private var requests: [Request] = []
    private var stopped = false

    init(upstreamPort: UInt16?, handler: @escaping (Request) -> Action) throws {
        self.upstreamPort = upstreamPort
        self.handler = handler
        (listener, port) = try TestHTTPServer.listen()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Requests seen so far, in order.
    var seen: [Request] { lock.withLock { requests } }

    func stop() {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Opens a listening socket on a free port of 127.0.0.1.
    static func listen() throws -> (Int32, UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(descriptor, 64) == 0 else { throw TestFailure("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    /// Returns a port that was free a moment ago, for servers that bind it themselves.
    static func freePort() throws -> UInt16 {
        let (descriptor, port) = try listen()
        close(descriptor)
        return port
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in
                serve(client)
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let request = readRequest(client) else { return }
        lock.withLock { requests.append(request) }
        switch handler(request) {
        case .respond(let response):
            var head = "HTTP/1.1 \(response.status) \(response.status < 400 ? "OK" : "Error")\r\n"
            for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
            writeAll(client, Data(head.utf8) + response.body)
        case .forward(let rewrite):
            guard let upstreamPort, var raw = forward(request, to: upstreamPort) else { return }
            rewrite?(&raw)
            writeAll(client, raw)
        }
    }

    private func readRequest(_ client: Int32) -> Request? {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let count = read(client, &chunk, chunk.count)
            if count <= 0 { return nil }
            // A TLS handshake (record type 0x16) on this plain-http port is closed at once, as a
            // registry's plain-http server rejects it, so that clients fall back to http.
            if buffer.isEmpty && chunk[0] == 0x16 { return nil }
            buffer.append(contentsOf: chunk[0..<count])
            headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        guard let headerEnd else { return nil }
        let lines = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers = [(String, String)]()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var request = Request(method: String(parts[0]), target: String(parts[1]), headers: headers, body: Data())
        var body = Data(buffer[headerEnd.upperBound...])

        if request.header("Expect")?.lowercased() == "100-continue" {
            writeAll(client, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        if request.header("Transfer-Encoding")?.lowercased() == "chunked" {
            // Read until the terminating zero-size chunk, then decode.
            while !body.contains(Data("0\r\n\r\n".utf8)) {
                let count = read(client, &chunk, chunk.count)
                if count <= 0 { break }
                body.append(contentsOf: chunk[0..<count])
            }
            request.body = Self.decodeChunked(body)
        } else {
            let length = Int(request.header("Content-Length") ?? "0") ?? 0
            while body.count < length {
                let count = read(client, &chunk, min(chunk.count, length - body.count))
                if count <= 0 { break }
                body.append(contentsOf: chunk[0..<count])
            }
            request.body = body
        }
        return request
    }

    private static func decodeChunked(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            out.append(rest[start..<(start + size)])
            rest = rest[(start + size + 2)...]
        }
        return out
    }

    private func forward(_ request: Request, to port: UInt16) -> Data? {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }

        var head = "\(request.method) \(request.target) HTTP/1.1\r\n"
        let dropped: Set<String> = ["expect", "connection", "content-length", "transfer-encoding"]
        for (name, value) in request.headers where !dropped.contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if !request.body.isEmpty || ["PUT", "POST", "PATCH"].contains(request.method) {
            head += "Content-Length: \(request.body.count)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        writeAll(upstream, Data(head.utf8) + request.body)

        var response = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = read(upstream, &chunk, chunk.count)
            if count <= 0 { break }
            response.append(contentsOf: chunk[0..<count])
        }
        return response
    }

    private func writeAll(_ descriptor: Int32, _ data: Data) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = send(descriptor, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// A failure in test setup, with its reason.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
