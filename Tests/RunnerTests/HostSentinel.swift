import Foundation

/// A host directory the container must never reach: it contains one file whose random token
/// shows up in a container's output only if the container read it.
struct HostSentinel {
    let directory: String
    let token = "host-secret-\(UUID().uuidString)"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-sentinel-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try token.write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
    }

    /// Lists the directory: only `secret`, unless something in a container wrote here.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
