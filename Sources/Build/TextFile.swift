import Foundation
import OCI

/// Reads whole small files (Dockerfiles, ignore files) and reports failures with errno.
enum TextFile {
    static func read(_ path: String) throws -> String {
        let descriptor = try checkSyscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }

        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try checkSyscall("read", path: path) { Glibc.read(descriptor, &buffer, buffer.count) }
            if count == 0 { break }
            data.append(contentsOf: buffer[..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
