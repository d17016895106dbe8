import Foundation

/// A failed system call: the operation, the path it acted on, and errno.
///
/// Every module reports syscalls through this type so that messages read alike:
/// `failed to open /var/lib/crib/store/index.json: No such file or directory (errno 2)`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String?
    public let errno: Int32

    public init(_ operation: String, path: String? = nil, errno: Int32 = Foundation.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path {
            return "failed to \(operation) \(path): \(reason) (errno \(errno))"
        }
        return "failed to \(operation): \(reason) (errno \(errno))"
    }
}

/// Runs a syscall wrapper that returns -1 on failure and throws a `SystemError` naming it.
@discardableResult
public func checkSyscall<T: BinaryInteger>(_ operation: String, path: String? = nil, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        if errno == EINTR { continue }
        throw SystemError(operation, path: path)
    }
}
