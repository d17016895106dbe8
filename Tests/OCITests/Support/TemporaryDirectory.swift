import Foundation
import Testing

/// A directory under the system temporary directory, removed by `remove()` (call it in `defer`).
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/crib-oci-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs a tool that the test compares crib with; a missing tool fails the test by name.
@discardableResult
func runTool(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    guard let path = ["/usr/bin/", "/usr/sbin/", "/bin/"].map({ $0 + tool }).first(where: FileManager.default.isExecutableFile)
    else {
        Issue.record("\(tool) is not installed; run scripts/setup.sh")
        throw CocoaError(.fileNoSuchFile)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
