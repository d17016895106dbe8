import Foundation
import OCI

/// Small files the runtime writes on every container start.
enum FileWriting {
    /// Writes `data` to `path`, replacing it, without fsync. FileManager.createFile syncs, which
    /// cost up to 0.13 s per file on a loaded machine, and a container's own state files need
    /// no durability beyond the process that writes them.
    static func write(_ data: Data, to path: String) throws {
        let fd = try checkSyscall("create", path: path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let count = try checkSyscall("write", path: path) { Foundation.write(fd, base + offset, buffer.count - offset) }
                offset += count
            }
        }
    }
}
