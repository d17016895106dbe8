import Foundation
import Testing

/// Runs one crib command again and again on fresh copies of a prepared root, killed by
/// `CRIB_TEST_KILL_AT` right after its 1st, 2nd, … durable step, until a run finishes.
///
/// After every kill, whatever the step, `crib check` must report nothing and every listed image
/// must be inspectable, so that no name points at a missing or partial image. The same command
/// must then succeed and leave a clean store again.
struct KillLoop {
    /// A prepared crib root that each run starts from a copy of.
    let template: String
    /// Where the copies go.
    let scratch: String
    var environment: [String: String] = [:]
    /// A command with more durable steps than this is a bug in the test or in crib.
    var maximumSteps = 300

    /// The outcome of one crib process.
    struct Run {
        let status: Int32
        let killed: Bool
        let stdout: String
        let stderr: String
    }

    /// Runs `arguments(root)` with kill points 1, 2, … and returns how many runs were killed.
    ///
    /// - Parameter afterKill: extra checks on a root whose run was killed at the given step.
    /// - Parameter afterSuccess: checks on a root after the command succeeded there.
    @discardableResult
    func run(
        _ arguments: (_ root: String, _ step: Int) -> [String],
        afterKill: (_ root: String, _ step: Int) throws -> Void = { _, _ in },
        afterSuccess: (_ root: String, _ step: Int) throws -> Void
    ) throws -> Int {
        for step in 1...maximumSteps {
            let root = scratch + "/kill-\(step)"
            defer { try? FileManager.default.removeItem(atPath: root) }
            try copyTree(template, to: root)

            let interrupted = try Self.crib(arguments(root, step), environment: environment.merging(["CRIB_TEST_KILL_AT": "\(step)"]) { $1 })
            if !interrupted.killed {
                #expect(interrupted.status == 0, "step \(step): the run that was not killed failed: \(interrupted.stderr)")
                try afterSuccess(root, step)
                try expectSound(root, after: "the run without a kill")
                return step - 1
            }
            let killedAt = interrupted.stderr.split(separator: "\n").last { $0.contains("CRIB_TEST_KILL_AT") } ?? "no hook message"
            #expect(killedAt.contains("killed after"), "step \(step): killed without the hook's message: \(interrupted.stderr)")

            try expectSound(root, after: String(killedAt))
            try afterKill(root, step)

            let again = try Self.crib(arguments(root, step), environment: environment)
            #expect(again.status == 0, "step \(step), after \(killedAt): the next run failed: \(again.stderr)")
            guard again.status == 0 else { return step }
            try afterSuccess(root, step)
            try expectSound(root, after: "the run after \(killedAt)")
        }
        Issue.record("the command was still killed after \(maximumSteps) steps")
        return maximumSteps
    }

    /// Checks that `crib check` finds nothing and that every image the store lists can be inspected.
    func expectSound(_ root: String, after event: String) throws {
        let check = try Self.crib(["--root", root, "check"], environment: environment)
        #expect(check.status == 0, "after \(event): crib check found problems:\n\(check.stdout)\(check.stderr)")
        #expect(check.stdout.hasSuffix(": no problems\n"), "after \(event): \(check.stdout)")

        let listing = try Self.crib(["--root", root, "images", "--format", "json"], environment: environment)
        #expect(listing.status == 0, "after \(event): crib images failed: \(listing.stderr)")
        let images = (try? JSONSerialization.jsonObject(with: Data(listing.stdout.utf8))) as? [[String: Any]] ?? []
        for name in images.flatMap({ $0["Names"] as? [String] ?? [] }) {
            let inspect = try Self.crib(["--root", root, "inspect", name], environment: environment)
            #expect(inspect.status == 0, "after \(event): \(name) is listed but cannot be inspected: \(inspect.stderr)")
        }
    }

    /// Runs the crib binary with `arguments`, its output in files so that no pipe fills up.
    static func crib(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = try start(arguments, environment: environment)
        process.process.waitUntilExit()
        return process.finish()
    }

    /// A crib process started by `start`, with the files its output goes to.
    final class Started {
        let process: Process
        let outputPath: String
        let errorPath: String

        init(process: Process, outputPath: String, errorPath: String) {
            self.process = process
            self.outputPath = outputPath
            self.errorPath = errorPath
        }

        /// Waits for the process and collects its output.
        func finish() -> Run {
            process.waitUntilExit()
            defer {
                unlink(outputPath)
                unlink(errorPath)
            }
            let stdout = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
            return Run(status: process.terminationStatus, killed: killed, stdout: stdout, stderr: stderr)
        }
    }

    /// Starts the crib binary without waiting for it.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Started {
        guard FileManager.default.isExecutableFile(atPath: CribFixture.binary) else {
            throw TestFailure("crib binary missing at \(CribFixture.binary); run swift build first")
        }
        let base = FileManager.default.temporaryDirectory.path + "/crib-kill-output-" + UUID().uuidString
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CribFixture.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        try process.run()
        return Started(process: process, outputPath: base + ".out", errorPath: base + ".err")
    }
}

/// Copies a directory tree with `cp -a`, keeping owners, modes and xattrs.
func copyTree(_ source: String, to destination: String) throws {
    let copied = try runTool("/bin/cp", ["-a", source, destination])
    guard copied.status == 0 else { throw TestFailure("cp -a \(source) \(destination) failed: \(copied.stderr)") }
}
