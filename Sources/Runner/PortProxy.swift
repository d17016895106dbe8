import Foundation
import OCI

/// Publishes one container port: listens on the host and copies each accepted connection to
/// a connection opened from inside the container's network namespace.
///
/// No iptables, no veth: the container's loopback is reached through sockets the shim creates
/// in its namespace, so this works rootless as well.
final class PortProxy: @unchecked Sendable {
    let mapping: PortMapping
    private weak var container: Container?
    private let log: any LogSink
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var stopped = false

    init(mapping: PortMapping, container: Container, log: any LogSink) {
        self.mapping = mapping
        self.container = container
        self.log = log
    }

    /// Binds the host port, so that a port in use fails before the container starts.
    func bind() throws {
        let fd = try checkSyscall("socket") {
            socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = try Self.address(mapping.hostAddress, port: mapping.hostPort)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if bound < 0 {
            let error = SystemError("bind", path: "\(mapping.hostAddress):\(mapping.hostPort)")
            close(fd)
            if error.errno == EACCES && Container.isRootless {
                throw RunnerError.rootlessUnsupported(
                    feature: "publishing host port \(mapping.hostPort)",
                    reason: "ports below net.ipv4.ip_unprivileged_port_start need root; publish a higher port")
            }
            throw RunnerError.io(error)
        }
        do {
            try checkSyscall("listen", path: "\(mapping.hostAddress):\(mapping.hostPort)") { listen(fd, 128) }
        } catch {
            close(fd)
            throw error
        }
        listener = fd
    }

    /// Accepts connections on the bound port until `stop()`.
    func start() {
        let fd = listener
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "crib port \(mapping.hostPort)"
        thread.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        // shutdown wakes the thread blocked in accept, which closes the descriptor itself.
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    /// Closes a port bound but never started.
    func discard() {
        if listener >= 0 { close(listener) }
        listener = -1
    }

    private func acceptLoop(_ fd: Int32) {
        defer { close(fd) }
        while true {
            let client = accept(fd, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            lock.lock()
            let done = stopped
            lock.unlock()
            if done {
                if client >= 0 { close(client) }
                return
            }
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                log.log(.warning, "port \(mapping): accept failed: \(SystemError("accept"))")
                return
            }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let container else {
            close(client)
            return
        }
        let upstream: Int32
        do {
            upstream = try container.makeSocket()
            var address = try Self.address("127.0.0.1", port: mapping.containerPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected < 0 {
                let error = SystemError("connect", path: "container port \(mapping.containerPort)")
                close(upstream)
                throw RunnerError.io(error)
            }
        } catch RunnerError.io(let error) where error.errno == ECONNREFUSED {
            // Nothing listens in the container yet, as while a server starts: the client sees
            // the connection close, as it would from the server itself, so this is no warning.
            log.log(.debug, "port \(mapping): \(error)")
            close(client)
            return
        } catch {
            log.log(.warning, "port \(mapping): \(error)")
            close(client)
            return
        }
        // Each direction copies until EOF, then half-closes the other side so that
        // request-then-response protocols see the end of the request.
        let reverseDone = DispatchSemaphore(value: 0)
        Thread {
            Self.copy(from: upstream, to: client)
            reverseDone.signal()
        }.start()
        Self.copy(from: client, to: upstream)
        reverseDone.wait()
        close(client)
        close(upstream)
    }

    private static func copy(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { bytes in
                    bytes.baseAddress.map { send(destination, $0 + offset, count - offset, Int32(MSG_NOSIGNAL)) } ?? -1
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    break loop
                }
                offset += written
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    static func address(_ text: String, port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else {
            throw RunnerError.invalidOption("--publish", value: text, reason: "not an IPv4 address")
        }
        return address
    }
}
