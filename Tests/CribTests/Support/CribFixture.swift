import Foundation
import Testing

/// Runs the built `crib` binary against a root of its own, and removes the root afterwards.
///
/// The binary is `CRIB_BINARY` (scripts/test.sh sets it) or `.build/debug/crib` under the
/// package root; a missing binary fails the test with the path it looked for.
final class CribFixture {
    let root: String
    let scratch: String

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/crib-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: base + "/scratch", withIntermediateDirectories: true)
        root = base + "/root"
        scratch = base + "/scratch"
    }

    deinit {
        try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent)
    }

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["CRIB_BINARY"], !path.isEmpty { return path }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.path + "/.build/debug/crib"
    }

    /// Copies the program at `source` to `destination` with mode 0755 through a close-on-exec
    /// descriptor. Foundation's copy leaves its descriptor inheritable, and a process that
    /// another test spawns meanwhile keeps it open past its own exec, so that executing the
    /// copy fails with ETXTBSY ("Text file busy") for as long as that process runs.
    static func copyExecutable(_ source: String, to destination: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw FixtureError.copyFailed(path: destination, errno: errno) }
        defer { close(descriptor) }
        try data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, base + offset, buffer.count - offset)
                guard written > 0 else { throw FixtureError.copyFailed(path: destination, errno: errno) }
                offset += written
            }
        }
    }

    /// Runs `crib --root ROOT ARGUMENTS…` and waits for it.
    @discardableResult
    func crib(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("crib binary missing at \(Self.binary); run swift build first")
            throw FixtureError.missingTool(Self.binary)
        }
        return try Self.execute(Self.binary, ["--root", root] + arguments, environment: environment, input: input)
    }

    /// Runs another program, such as skopeo or umoci; a missing tool fails loudly.
    static func execute(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> Result {
        let executable = path.hasPrefix("/") ? path : try locate(path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
        final class Collected: @unchecked Sendable { var data = Data() }
        let errorData = Collected()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { errorData.data = error.fileHandleForReading.readDataToEndOfFile() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        readers.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData.data, as: UTF8.self))
    }

    static func locate(_ tool: String) throws -> String {
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = directory + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        Issue.record("\(tool) is not installed; run scripts/setup.sh")
        throw FixtureError.missingTool(tool)
    }

    enum FixtureError: Error {
        case missingTool(String)
        case copyFailed(path: String, errno: Int32)
    }
}
