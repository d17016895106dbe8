import Foundation
import OCI
import Testing

@testable import Runner

/// A container must not be able to overwrite the crib binary on the host. Every crib process
/// that lives in the container's PID namespace (init, the command before its exec, a joined
/// process) runs that binary, so its /proc/PID/exe is a way back to the host's file. These
/// tests try the known ways in and compare the binary's digest before and after.
@Suite(.serialized)
struct HostBinaryTests {
    /// Tries to write through every /proc/PID/exe the container can see, directly and through
    /// a descriptor reopened by its /proc/self/fd magic link. Prints what it could open and
    /// write, and the device and inode of each file it could open.
    static let overwriteScript = """
        end=$(( $(date +%s) + 3 ))
        while [ $(date +%s) -lt $end ]; do
          for exe in /proc/[0-9]*/exe; do
            case "$exe" in /proc/self/*|/proc/$$/*) continue ;; esac
            { echo overwritten >> "$exe"; } 2>/dev/null && echo "wrote $exe"
            ( exec 3<"$exe" && echo "opened $exe $(cat ${exe%/exe}/comm)" && \
              echo "inode $(stat -L -c %d:%i /proc/self/fd/3)" && \
              { echo overwritten >> /proc/self/fd/3; } && echo "wrote $exe through a descriptor" ) 2>/dev/null
          done
        done
        true
        """

    /// The host files a shim may start from: crib, and crib-shim when it sits beside crib.
    static var hostBinaries: [String] {
        let shim = (Shell.crib as NSString).deletingLastPathComponent + "/crib-shim"
        return FileManager.default.isExecutableFile(atPath: shim) ? [Shell.crib, shim] : [Shell.crib]
    }

    /// Returns the device and inode of each host binary as `stat -c %d:%i` prints them.
    static func binaryInodes() throws -> [String] {
        try hostBinaries.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { throw FixtureError("failed to stat \(path): errno \(errno)") }
            return "inode \(info.st_dev):\(info.st_ino)\n"
        }
    }

    static func binaryDigest() throws -> Digest {
        guard FileManager.default.isExecutableFile(atPath: Shell.crib) else {
            throw FixtureError("missing crib binary at \(Shell.crib): run swift build or set CRIB_BINARY")
        }
        var content = Data()
        for path in hostBinaries { content.append(try Data(contentsOf: URL(fileURLWithPath: path))) }
        return Digest.sha256(content)
    }

    @Test(arguments: [false, true])
    func procExeOfInitIsNotWritable(privileged: Bool) throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let before = try Self.binaryDigest()

        let flags = privileged ? ["--privileged"] : []
        let result = try Shell.crib(
            root: root.path, ["run", "--rm"] + flags + ["--rootfs", rootfs.path, "sh", "-c", Self.overwriteScript])

        #expect(result.status == 0, "\(result.error)")
        #expect(!result.output.contains("wrote"), "\(result.output)")
        // Even a read-only handle on the host's file would become writable once no crib runs it.
        for inode in try Self.binaryInodes() {
            #expect(!result.output.contains(inode), "\(result.output)")
        }
        // Init is non-dumpable, so only CAP_SYS_PTRACE (--privileged) opens its exe at all.
        if !privileged {
            #expect(!result.output.contains("opened /proc/1/exe"), "\(result.output)")
        }
        #expect(try Self.binaryDigest() == before)
    }

    /// runc's CVE-2019-5736: the command is /proc/self/exe, so the container's own process runs
    /// the crib binary, with the container's credentials. A process joined to the container
    /// then tries to write through its /proc/PID/exe while it runs.
    @Test func selfExeCommandCannotReachHostBinary() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let before = try Self.binaryDigest()

        // The crib binary needs the host's Swift runtime and C libraries to start inside the
        // busybox root. They are bound read-only where the binary's RUNPATH looks for them.
        var spec = ContainerSpec(
            rootfs: .directory(rootfs.path),
            arguments: ["/proc/self/exe", "login", "--password-stdin", "-u", "user", "127.0.0.1:9"],
            environment: ["PATH=/bin"], stateDirectory: state)
        for directory in ["/opt/swift", "/lib", "/lib64", "/usr/lib"] where FileManager.default.fileExists(atPath: directory) {
            spec.binds.append(ContainerSpec.BindMount(source: directory, destination: directory, readOnly: true))
        }
        // crib login reads the password until end of input, which keeps it running while the
        // stdin pipe stays open.
        let stdin = Pipe()
        spec.standardInput = stdin.fileHandleForReading.fileDescriptor
        // A file rather than a pipe, because the test reads the output only after the attack.
        let outputPath = state + "-output"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath)
        else {
            throw FixtureError("failed to create \(outputPath)")
        }
        defer { try? output.close() }
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

        let attacker = try container.exec(["sh", "-c", Self.overwriteScript])
        _ = attacker.wait()
        try stdin.fileHandleForWriting.close()
        _ = container.wait()
        stopped = true
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)

        // The attack reached the crib binary running as the command, so the test tried for real.
        #expect(text.contains(" exe\n"), "\(text)")
        #expect(!text.contains("wrote"), "\(text)")
        for inode in try Self.binaryInodes() {
            #expect(!text.contains(inode), "\(text)")
        }
        #expect(try Self.binaryDigest() == before)
    }
}
