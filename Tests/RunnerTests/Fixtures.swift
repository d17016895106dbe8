import Foundation

/// A busybox root file system built from the host's busybox-static, in a temporary directory.
struct BusyboxRootfs {
    let path: String

    /// Builds the tree: /bin/busybox with every applet linked to it, and /etc/passwd and
    /// /etc/group with root, an `app` user (1000) that is also in group `extra` (2000), and the `nobody` user.
    init(owner: String? = nil) throws {
        let busybox = "/bin/busybox"
        guard FileManager.default.isExecutableFile(atPath: busybox) else {
            throw FixtureError("missing \(busybox): install Debian's busybox-static (scripts/setup.sh)")
        }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("crib-busybox-\(UUID().uuidString)").path
        let manager = FileManager.default
        for directory in ["bin", "etc", "tmp", "root", "www", "home/app"] {
            try manager.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        chmod(path + "/tmp", 0o1777)
        try manager.copyItem(atPath: busybox, toPath: path + "/bin/busybox")
        let applets = try Shell.run(busybox, ["--list"]).output.split(separator: "\n")
        for applet in applets where applet != "busybox" {
            try manager.createSymbolicLink(atPath: path + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n"
            .write(toFile: path + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n"
            .write(toFile: path + "/etc/group", atomically: true, encoding: .utf8)
        try "hello from the container\n".write(toFile: path + "/www/index.html", atomically: true, encoding: .utf8)
        if let owner {
            try Shell.run("/bin/chown", ["-R", "\(owner):\(owner)", path])
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs programs and the built crib binary.
enum Shell {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// The crib binary under test: CRIB_BINARY, or .build/debug/crib in the package.
    static var crib: String {
        if let path = ProcessInfo.processInfo.environment["CRIB_BINARY"], !path.isEmpty { return path }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return package.appendingPathComponent(".build/debug/crib").path
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes before waiting, so that a full pipe cannot stall the child.
        var stderrBytes = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stderrBytes = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let stdoutBytes = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: stdoutBytes, as: UTF8.self),
            error: String(decoding: stderrBytes, as: UTF8.self))
    }

    /// Runs `crib --root ROOT ARGUMENTS…`, failing loudly when the binary was not built.
    static func crib(root: String, _ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: crib) else {
            throw FixtureError("missing crib binary at \(crib): run swift build or set CRIB_BINARY")
        }
        return try run(crib, ["--root", root] + arguments)
    }
}

/// A temporary crib root, removed by `remove()`.
struct TemporaryRoot {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("crib-root-\(UUID().uuidString)").path

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func requireRoot() throws {
    guard geteuid() == 0 else {
        throw FixtureError("this test needs root (it creates namespaces, mounts and a test user)")
    }
}
