import Foundation

/// A source of bytes read in chunks: a file, a blob verified while it is read, an HTTP body.
///
/// Layering reads layers through this protocol so that it never needs to know where a layer
/// comes from, and the store can check the digest of everything it hands out.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A sink for bytes written in chunks: a blob being stored, a file, a network upload.
public protocol ByteSink: AnyObject {
    func write(_ buffer: UnsafeRawBufferPointer) throws
}

/// A file opened for reading, as a `ByteSource`.
public final class FileSource: ByteSource {
    public let path: String
    private let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        descriptor = try checkSyscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkSyscall("read", path: path) { Foundation.read(descriptor, buffer.baseAddress, buffer.count) }
    }
}

/// A file created for writing, as a `ByteSink`. Bytes reach the disk on `sync()`.
public final class FileSink: ByteSink {
    public let path: String
    let descriptor: Int32

    public init(path: String, mode: mode_t = 0o644) throws {
        self.path = path
        descriptor = try checkSyscall("create", path: path) {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        }
    }

    /// Creates a new file with a unique name `<directory>/<prefix>XXXXXX`. mkstemp makes it
    /// 0600, which suits scratch files; a file renamed into its final place gives `mode`.
    public init(temporaryIn directory: String, prefix: String, mode: mode_t? = nil) throws {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        descriptor = try checkSyscall("create temporary file in", path: directory) { mkstemp(&template) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        path = String(cString: template)
        if let mode, fchmod(descriptor, mode) != 0 {
            let error = SystemError("fchmod", path: path)
            close(descriptor)
            unlink(path)
            throw error
        }
    }

    deinit { close(descriptor) }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = try checkSyscall("write", path: path) {
                Foundation.write(descriptor, base + offset, buffer.count - offset)
            }
            offset += written
        }
    }

    public func sync() throws {
        try checkSyscall("fsync", path: path) { fsync(descriptor) }
    }
}
