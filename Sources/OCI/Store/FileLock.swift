import Foundation

/// An advisory `flock` on a lock file, released when the value is dropped.
///
/// flock locks belong to the open file description, so two `FileLock`s in one process
/// exclude each other just as two processes do.
public final class FileLock {
    public let path: String
    private let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        descriptor = try checkSyscall("open lock file", path: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
    }

    deinit { close(descriptor) }

    /// Waits for the lock; `exclusive` for writers, shared otherwise.
    public func lock(exclusive: Bool) throws {
        try checkSyscall("lock", path: path) { flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) }
    }

    /// Takes the lock if nobody holds a conflicting one; returns whether it did.
    public func tryLock(exclusive: Bool) throws -> Bool {
        if flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw SystemError("lock", path: path)
    }

    public func unlock() {
        flock(descriptor, LOCK_UN)
    }
}
