import Foundation

/// Debian's `docker-registry` (the distribution project's server) on a free port of
/// 127.0.0.1, storing into a temporary directory, optionally behind htpasswd basic auth.
/// Its log (access lines included) goes to `logPath`.
final class RegistryFixture {
    static let binary = "/usr/bin/docker-registry"

    let directory: String
    let port: UInt16
    let logPath: String
    private let process = Process()

    /// `host:port` for references.
    var host: String { "127.0.0.1:\(port)" }

    init(htpasswd: (user: String, password: String)? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestFailure("\(Self.binary) is missing: install Debian's docker-registry (bash scripts/setup.sh)")
        }
        directory = try makeTemporaryDirectory("registry")
        port = try TestHTTPServer.freePort()
        logPath = directory + "/registry.log"

        var auth = ""
        if let htpasswd {
            let file = directory + "/htpasswd"
            let result = try runTool("/usr/bin/htpasswd", ["-Bbn", htpasswd.user, htpasswd.password])
            guard result.status == 0 else { throw TestFailure("htpasswd failed: \(result.stderr)") }
            try result.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            auth = "auth:\n  htpasswd:\n    realm: crib-test\n    path: \(file)\n"
        }
        // No blobdescriptor cache, so that what the registry reports comes from its storage.
        let config = """
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: \(directory)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            \(auth)
            """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)

        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", directory + "/config.yml"]
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()

        // Ready when /v2/ accepts connections.
        for _ in 0..<100 {
            if canConnect(port: port) { return }
            usleep(50_000)
        }
        stop()
        throw TestFailure(
            "docker-registry did not listen on \(host) within 5 s; log: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")"
        )
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// Returns the access-log lines for `method` requests whose path contains `fragment`.
    func accessLog(method: String, containing fragment: String) -> [String] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter {
            $0.contains("\"\(method) ") && $0.contains(fragment)
        }
    }
}

func canConnect(port: UInt16) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    } == 0
}

func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/crib-\(prefix)-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp failed: errno \(errno)") }
    return String(cString: template)
}

struct ToolResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion with its output captured.
@discardableResult
func runTool(_ path: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil) throws
    -> ToolResult
{
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("\(path) is missing: run bash scripts/setup.sh")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let inputPipe = Pipe()
    process.standardInput = inputPipe
    try process.run()
    if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inputPipe.fileHandleForWriting.close()
    // Both pipes are drained at once so that a chatty child never blocks on a full pipe.
    let errData = DataBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ToolResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.data, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}
