import Foundation
import OCI
import Testing

@testable import Runner

/// Runs the Runner library in this process: the test binary links the shim too, so it can
/// start itself as a container's shim.
@Suite(.serialized)
struct ContainerExecTests {
    @Test func execJoinsTheRunningContainer() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }

        var spec = ContainerSpec(
            rootfs: .directory(rootfs.path), arguments: ["sh", "-c", "echo $$ > /tmp/main; sleep 30"],
            environment: ["PATH=/bin"], stateDirectory: state)
        spec.hostname = "joined"
        let container = Container(spec: spec)
        try container.start()
        defer {
            container.signal(SIGKILL)
            _ = container.wait()
        }

        let script = "hostname > /tmp/exec; echo $$ >> /tmp/exec; cat /proc/1/comm >> /tmp/exec; exit 5"
        let process = try container.exec(["sh", "-c", script])
        #expect(process.wait() == 5)

        let lines = try String(contentsOfFile: rootfs.path + "/tmp/exec", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first == "joined")
        let pid = lines.count > 1 ? Int(lines[1]) ?? 0 : 0
        #expect(pid > 1000)
        // PID 1 is the shim's init, a re-executed crib.
        #expect(lines.last == "crib-init")
    }

    @Test func execOfMissingCommandIs127() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let container = Container(
            spec: ContainerSpec(
                rootfs: .directory(rootfs.path), arguments: ["sleep", "30"], environment: ["PATH=/bin"],
                stateDirectory: state))
        try container.start()
        defer {
            container.signal(SIGKILL)
            _ = container.wait()
        }
        #expect {
            _ = try container.exec(["no-such-command"])
        } throws: { error in
            (error as? RunnerError)?.exitStatus == 127
        }
    }
}

extension ContainerExecTests {
    @Test func outputGoesToTheGivenDescriptor() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let pipe = Pipe()
        var spec = ContainerSpec(
            rootfs: .directory(rootfs.path), arguments: ["sh", "-c", "echo to-stdout; echo to-stderr >&2"],
            environment: ["PATH=/bin"], stateDirectory: state)
        spec.standardOutput = pipe.fileHandleForWriting.fileDescriptor
        spec.standardError = pipe.fileHandleForWriting.fileDescriptor
        let container = Container(spec: spec)
        try container.start()
        #expect(container.wait() == 0)
        try pipe.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output == "to-stdout\nto-stderr\n")
    }
}

extension ContainerExecTests {
    func startDetached(_ script: String, waitsForAll: Bool, rootfs: BusyboxRootfs, state: String) throws -> Container {
        var spec = ContainerSpec(
            rootfs: .directory(rootfs.path), arguments: ["sh", "-c", script], environment: ["PATH=/bin"],
            stateDirectory: state)
        spec.waitsForAllProcesses = waitsForAll
        let container = Container(spec: spec)
        try container.start()
        return container
    }

    @Test func initWaitsForEveryProcessWhenAsked() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }

        // The command exits at once and leaves a process behind, as `criu restore -d` does.
        let orphan = "(trap 'exit 9' TERM; touch /tmp/ready; while true; do sleep 0.05; done) & exit 0"
        let container = try startDetached(orphan, waitsForAll: true, rootfs: rootfs, state: state)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: rootfs.path + "/tmp/ready") { usleep(20_000) }
        // The signal reaches the orphan, and its status is the container's.
        container.signal(SIGTERM)
        #expect(container.wait() == 9)
    }

    @Test func initEndsWithTheCommandByDefault() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let container = try startDetached("sleep 30 & exit 4", waitsForAll: false, rootfs: rootfs, state: state)
        #expect(container.wait() == 4)
    }

    @Test func execCanRaiseCapabilities() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("crib-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let container = try startDetached("sleep 30", waitsForAll: false, rootfs: rootfs, state: state)
        defer {
            container.signal(SIGKILL)
            _ = container.wait()
        }
        let process = try container.exec(["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status > /tmp/caps"]) {
            $0.privileged = true
        }
        #expect(process.wait() == 0)
        let caps = try String(contentsOfFile: rootfs.path + "/tmp/caps", encoding: .utf8)
        #expect(caps.contains("Seccomp:\t0"))
        #expect(!caps.contains("CapEff:\t00000000a80425fb"))
    }
}
