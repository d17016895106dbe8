import Foundation
import OCI
import Testing

@testable import Runner

struct RunOptionsTests {
    @Test(arguments: [
        ("8080:80", "0.0.0.0", 8080, 80),
        ("18080:80/tcp", "0.0.0.0", 18080, 80),
        ("127.0.0.1:9080:9080", "127.0.0.1", 9080, 9080),
    ])
    func portParses(text: String, address: String, host: Int, container: Int) throws {
        let mapping = try PortMapping(parsing: text)
        #expect(mapping.hostAddress == address)
        #expect(mapping.hostPort == UInt16(host))
        #expect(mapping.containerPort == UInt16(container))
    }

    @Test(arguments: ["80", "80:", "0:80", "70000:80", "8080:80/udp", "a:b"])
    func portRejects(text: String) {
        #expect {
            try PortMapping(parsing: text)
        } throws: { error in
            String(describing: error).contains("\"\(text)\"")
        }
    }

    @Test(arguments: [
        ("/srv:/data", "/srv", "/data", false),
        ("/srv:/data:ro", "/srv", "/data", true),
        ("/srv:/data:rw,Z", "/srv", "/data", false),
    ])
    func volumeParses(text: String, source: String, destination: String, readOnly: Bool) throws {
        let bind = try RunOptions.parseVolume(text)
        #expect(bind == ContainerSpec.BindMount(source: source, destination: destination, readOnly: readOnly))
    }

    @Test(arguments: ["/srv", "named:/data", "/srv:data", "/srv:/data:bogus", "/a:/b:ro:x"])
    func volumeRejects(text: String) {
        #expect {
            try RunOptions.parseVolume(text)
        } throws: { error in
            String(describing: error).contains("\"\(text)\"")
        }
    }

    @Test func lastPidVolumeIsRecognised() {
        let bind = ContainerSpec.BindMount(source: ContainerSpec.lastPidPath, destination: ContainerSpec.lastPidPath)
        #expect(ContainerSpec.isLastPidBind(bind))
        #expect(
            !ContainerSpec.isLastPidBind(
                ContainerSpec.BindMount(source: "/srv", destination: ContainerSpec.lastPidPath)))
    }

    @Test func environmentFileRejectsBadLineNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crib-env-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "GOOD=1\n\nBAD LINE=2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try RunOptions.readEnvironmentFile(path)
        } throws: { error in
            String(describing: error).contains("\(path):3")
        }
    }

    func spec(_ options: RunOptions, image: OCI.ContainerConfig? = nil) throws -> ContainerSpec {
        try options.makeSpec(
            image: image, rootfs: .directory("/nonexistent"), userLayers: [], stateDirectory: "/nonexistent",
            defaultHostname: "abc")
    }

    @Test func imageCommandMergesAsPodman() throws {
        var image = OCI.ContainerConfig()
        image.entrypoint = ["/entry"]
        image.cmd = ["default"]
        image.env = ["PATH=/custom", "A=image"]
        image.workingDir = "/app"

        var options = RunOptions()
        #expect(try spec(options, image: image).arguments == ["/entry", "default"])
        options.command = ["given"]
        #expect(try spec(options, image: image).arguments == ["/entry", "given"])
        options.entrypoint = "/other"
        options.command = []
        // A new entrypoint drops the image's command.
        #expect(try spec(options, image: image).arguments == ["/other"])

        options.environment = ["A=flag"]
        let merged = try spec(options, image: image)
        #expect(merged.environment == ["PATH=/custom", "A=flag", "HOSTNAME=abc", "HOME=/root"])
        #expect(merged.workingDirectory == "/app")
    }

    @Test func capabilityFlags() throws {
        var options = RunOptions()
        options.command = ["true"]
        options.capDrop = ["ALL"]
        options.capAdd = ["CAP_NET_ADMIN", "sys_ptrace"]
        let result = try spec(options)
        #expect(result.capabilities == [Capability.netAdmin, Capability.sysPtrace])
        options.capAdd = ["NOT_A_CAP"]
        #expect {
            try spec(options)
        } throws: { error in
            String(describing: error).contains("NOT_A_CAP")
        }
    }

    @Test func checkpointRestoreMakesLastPidWritable() throws {
        var options = RunOptions()
        options.command = ["true"]
        #expect(try !spec(options).lastPidWritable)
        options.capAdd = ["CHECKPOINT_RESTORE"]
        #expect(try spec(options).lastPidWritable)
    }

    @Test func publishNeedsPrivateNetwork() throws {
        var options = RunOptions()
        options.command = ["true"]
        options.network = .host
        options.ports = [PortMapping(hostPort: 8080, containerPort: 80)]
        #expect(throws: RunnerError.self) { try spec(options) }
    }

    @Test(arguments: [
        ("/var/lib/crib/layers/sha256:ab", "/var/lib/crib/layers/sha256\\:ab"),
        ("/a,b\\c", "/a\\,b\\\\c"),
    ])
    func overlayPathsAreEscaped(path: String, escaped: String) {
        #expect(Container.escapeOverlayPath(path) == escaped)
    }
}
