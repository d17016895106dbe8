import Foundation
import Testing

@testable import Runner

/// No host descriptor and no host working directory may reach a container: runc's
/// CVE-2024-21626 let `--workdir /proc/self/fd/N` make a leaked directory descriptor the
/// command's working directory, outside the rootfs. Each test opens a host sentinel directory
/// in the process that starts crib and checks that its token never shows up inside.
@Suite(.serialized)
struct DescriptorEscapeTests {
    /// Looks through every descriptor, working directory and root the container can see.
    static let probeScript = """
        for f in /proc/[0-9]*/fd/* /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/task/*/cwd; do
          for p in "$f/secret" "$f/../secret" "$f/../../secret" "$f"; do
            [ -f "$p" ] && timeout 1 cat "$p" </dev/null 2>/dev/null
          done
          ls -a "$f/" 2>/dev/null
        done
        pwd; ls -a; cat secret 2>/dev/null; cat ../secret 2>/dev/null
        true
        """

    /// Starts crib from a shell whose working directory is the sentinel. The shell leaves
    /// descriptors 7 (the directory) and 8 (the secret file) open without close-on-exec.
    func runFromSentinel(_ sentinel: HostSentinel, flags: [String], script: String) throws -> Shell.Result {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let crib = "'\(Shell.crib)' --root '\(root.path)' run --rm "
            + flags.map { "'\($0)'" }.joined(separator: " ")
        let command =
            "cd '\(sentinel.directory)' && exec 7<'\(sentinel.directory)' 8<secret && exec \(crib) --rootfs '\(rootfs.path)' sh -c '\(script)'"
        return try Shell.run("/bin/sh", ["-c", command])
    }

    @Test func inheritedDescriptorsStayOutside() throws {
        let sentinel = try HostSentinel()
        defer { sentinel.remove() }
        let result = try runFromSentinel(sentinel, flags: [], script: Self.probeScript)
        #expect(result.status == 0, "\(result.error)")
        #expect(!result.output.contains(sentinel.token), "\(result.output)")
        #expect(!result.error.contains(sentinel.token))
    }

    @Test(arguments: [
        "/proc/self/fd/7", "/proc/self/fd/8", "/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5",
        "/proc/1/cwd", "/proc/self/cwd", "/proc/self/cwd/../..", "/proc/1/root/..", "/proc/self/fd/7/..",
        "/../../../..",
    ])
    func workdirThroughProcStaysInside(workdir: String) throws {
        let sentinel = try HostSentinel()
        defer { sentinel.remove() }
        let result = try runFromSentinel(sentinel, flags: ["--workdir", workdir], script: Self.probeScript)
        // crib may refuse the directory (125) or create it inside the rootfs; either way the
        // command must not see the host's.
        #expect(result.status == 0 || result.status == 125, "\(result.error)")
        #expect(!result.output.contains(sentinel.token), "\(result.output)")
        #expect(!result.error.contains(sentinel.token))
        #expect(try sentinel.contents() == ["secret"])
    }

    /// A process joined to a running container, as checkpoint triggers use, gets the same
    /// protection. The joining crib process has host descriptors open until it executes.
    @Test(arguments: ["/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5", "/proc/self/cwd", "/proc/1/cwd/../.."])
    func execWorkdirThroughProcStaysInside(workdir: String) throws {
        try requireRoot()
        let sentinel = try HostSentinel()
        defer { sentinel.remove() }
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        // Held open by this process while it starts the container and the joined process.
        let directory = open(sentinel.directory, O_RDONLY | O_DIRECTORY)
        #expect(directory >= 0)
        defer { close(directory) }

        // A file rather than a pipe, which the listing could fill before anyone reads it.
        let outputPath = state + "-output"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath)
        else {
            throw FixtureError("failed to create \(outputPath)")
        }
        defer { try? output.close() }
        var spec = ContainerSpec(
            rootfs: .directory(rootfs.path), arguments: ["sleep", "20"], environment: ["PATH=/bin"],
            stateDirectory: state)
        spec.standardOutput = output.fileDescriptor
        spec.standardError = output.fileDescriptor
        let container = Container(spec: spec, executable: Shell.crib)
        try container.start()
        var stopped = false
        defer {
            if !stopped {
                container.signal(SIGKILL)
                _ = container.wait()
            }
        }

        do {
            let process = try container.exec(["sh", "-c", Self.probeScript], workingDirectory: workdir)
            _ = process.wait()
        } catch let error as RunnerError {
            // A refused working directory is a correct outcome; its message must not leak either.
            #expect(!"\(error)".contains(sentinel.token))
        }
        container.signal(SIGKILL)
        _ = container.wait()
        stopped = true
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        #expect(!text.contains(sentinel.token), "\(text)")
        #expect(try sentinel.contents() == ["secret"])
    }
}
