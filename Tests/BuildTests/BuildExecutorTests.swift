import Foundation
import Layering
import OCI
import Testing

@testable import Build

/// A crib root, a build context and a busybox base image for one executor test.
///
/// The base image is made from the host's busybox-static, so the tests need /bin/busybox;
/// RUN steps start containers through the crib binary and need root, overlayfs and namespaces.
final class BuildFixture {
    let directory: String
    let root: RootDirectory
    let context: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-exec-\(UUID().uuidString)").path
        root = RootDirectory(path: directory + "/root")
        context = directory + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static var cribBinary: String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        return ProcessInfo.processInfo.environment["CRIB_BINARY"] ?? packageRoot + "/.build/debug/crib"
    }

    func write(_ path: String, _ content: String) throws {
        let full = context + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: false, encoding: .utf8)
    }

    /// Stores a busybox image named `busybox` in this fixture's root.
    func makeBusyboxImage() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            throw BuildError.invalidOption("these tests need /bin/busybox (Debian package busybox-static)")
        }
        let rootfs = directory + "/busybox-rootfs"
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
        for applet in ["sh", "cat", "echo", "ls", "id", "mkdir", "chown", "true", "false", "test", "env", "stat", "touch", "wc", "dd", "df", "tail"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n".write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\napp:x:1000:\nstaff:x:50:app\n".write(toFile: rootfs + "/etc/group", atomically: false, encoding: .utf8)

        let store = try ContentStore(root: root)
        let blob = try store.beginBlob()
        let writer = try LayerWriter(sink: blob, options: LayerWriter.Options(compression: .gzip, timestamp: 0))
        try writer.addTree(at: rootfs)
        let layer = try writer.finish()
        let descriptor = try blob.commit(mediaType: layer.mediaType, expected: layer.digest)
        var config = ImageConfig(platform: .current, config: ContainerConfig(), diffIDs: [layer.diffID])
        config.created = "1970-01-01T00:00:00Z"
        config.history = [History(created: config.created, createdBy: "busybox-static from the host")]
        _ = try store.commitImage(config: config, layers: [descriptor], names: ["busybox"])
    }

    func build(
        _ dockerfile: String, tags: [String] = ["result"], options: BuildOptions = BuildOptions(), noCache: Bool = false,
        timestamp: Int64? = nil, root: RootDirectory? = nil, secrets: [BuildSecret] = []
    ) throws -> BuildExecutor.Result {
        try write("Dockerfile", dockerfile)
        let buildContext = try BuildContext(directory: context, file: nil)
        let executor = try BuildExecutor(
            root: root ?? self.root, context: buildContext, buildOptions: options,
            options: .init(tags: tags, noCache: noCache, timestamp: timestamp, executable: Self.cribBinary, secrets: secrets))
        return try executor.run()
    }

    /// Runs the crib binary on this fixture's root and returns its exit status and stdout.
    func runCrib(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.cribBinary)
        process.arguments = ["--root", root.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The content of `path` in a layer, read back with tar.
    func readFile(_ descriptor: Descriptor, _ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-xOzf", root.store + "/blobs/sha256/" + descriptor.digest.encoded, path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The mode, owner and path of each entry of a layer, read back with tar.
    func listLayer(_ descriptor: Descriptor, in root: RootDirectory? = nil) throws -> [String] {
        let path = (root ?? self.root).store + "/blobs/sha256/" + descriptor.digest.encoded
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-tvzf", path, "--numeric-owner"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            // "-rw-r----- 1000/50 6 1970-01-01 00:16 app/b.txt": keep mode, owner and path.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return "\(fields[0]) \(fields[1]) \(fields.last ?? "")"
        }
    }
}

@Suite(.serialized)
struct BuildExecutorTests {
    @Test func copyOnlyBuildIsReproducible() throws {
        let fixture = try BuildFixture()
        try fixture.write("app/main.txt", "main\n")
        try fixture.write("app/lib/util.txt", "util\n")
        try fixture.write("notes.md", "ignored\n")
        try fixture.write(".dockerignore", "*.md\n")
        let dockerfile = """
            FROM scratch
            ENV APP=/opt/app
            COPY app/ $APP/
            COPY --chmod=0600 <<EOF /etc/app.conf
            path=${APP}
            EOF
            CMD ["/opt/app/main"]
            """
        let first = try fixture.build(dockerfile, timestamp: 1_700_000_000)
        Thread.sleep(forTimeInterval: 1.1)
        try fixture.write("app/main.txt", "main\n")
        let otherRoot = RootDirectory(path: fixture.directory + "/other-root")
        let second = try fixture.build(dockerfile, timestamp: 1_700_000_000, root: otherRoot)

        #expect(first.image.digest == second.image.digest)
        #expect(first.image.id == second.image.id)
        #expect(first.executedSteps == 2)
        #expect(second.executedSteps == 2)
        #expect(first.image.config.created == "2023-11-14T22:13:20Z")
        #expect(try fixture.listLayer(first.image.manifest.layers[0]) == [
            "drwxr-xr-x 0/0 opt/", "drwxr-xr-x 0/0 opt/app/", "drwxr-xr-x 0/0 opt/app/lib/", "-rw-r--r-- 0/0 opt/app/lib/util.txt",
            "-rw-r--r-- 0/0 opt/app/main.txt",
        ])
        #expect(try fixture.listLayer(first.image.manifest.layers[1]) == ["drwxr-xr-x 0/0 etc/", "-rw------- 0/0 etc/app.conf"])
        #expect(try fixture.readFile(first.image.manifest.layers[1], "etc/app.conf") == "path=/opt/app\n")
    }

    @Test func copyCacheFollowsContent() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("a.txt", "a\n")
        try fixture.write("b.txt", "b\n")
        let dockerfile = "FROM busybox\nCOPY a.txt /a.txt\nENV STAGE=copy\nCOPY b.txt /b.txt\nCOPY <<EOF /c.txt\n$STAGE\nEOF\n"
        let cold = try fixture.build(dockerfile)
        #expect(cold.executedSteps == 3)
        #expect(cold.cachedSteps == 0)

        let warm = try fixture.build(dockerfile, tags: ["other"])
        #expect(warm.executedSteps == 0)
        #expect(warm.cachedSteps == 3)
        #expect(warm.image.manifest.layers == cold.image.manifest.layers)
        // The fully cached build reuses the image, with its id, and adds the new tag to it.
        #expect(warm.image.digest == cold.image.digest)
        #expect(Set(warm.image.names) == ["localhost/result:latest", "localhost/other:latest"])

        let relabeled = try fixture.build(dockerfile, options: BuildOptions(labels: ["extra": "1"]))
        #expect(relabeled.executedSteps == 0)
        #expect(relabeled.image.digest != cold.image.digest)
        #expect(relabeled.image.config.config?.labels == ["extra": "1"])

        // A change to b.txt invalidates its COPY and the steps after it, not the ones before.
        try fixture.write("b.txt", "changed\n")
        let changed = try fixture.build(dockerfile)
        #expect(changed.cachedSteps == 1)
        #expect(changed.executedSteps == 2)
        #expect(changed.image.manifest.layers[1] == cold.image.manifest.layers[1])
        #expect(changed.image.manifest.layers[2] != cold.image.manifest.layers[2])

        let uncached = try fixture.build(dockerfile, noCache: true)
        #expect(uncached.executedSteps == 3)
    }

    /// On merged-/usr bases /bin is a symlink to usr/bin. A COPY below it must write into the
    /// real directory, or the layer's own bin/ would hide every command when layers stack.
    @Test func copyThroughSymlinkedDirectory() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("a.txt", "a\n")
        let dockerfile = """
            FROM busybox
            RUN mkdir -p /usr/real && ln -s /usr/real /absolute && ln -s usr/real /relative
            COPY a.txt /absolute/
            COPY a.txt /relative/b.txt
            COPY a.txt /absolute
            COPY <<EOF /relative/c.txt
            c
            EOF
            RUN ls /usr/real > /listing && test -L /absolute && test -L /relative && cat /absolute/b.txt /relative/c.txt >> /listing
            """
        let result = try fixture.build(dockerfile)
        let layers = result.image.manifest.layers
        #expect(try fixture.listLayer(layers[2]) == ["drwxr-xr-x 0/0 usr/", "drwxr-xr-x 0/0 usr/real/", "-rw-r--r-- 0/0 usr/real/a.txt"])
        #expect(try fixture.listLayer(layers[3]).last == "-rw-r--r-- 0/0 usr/real/b.txt")
        #expect(try fixture.readFile(layers[6], "listing") == "a.txt\nb.txt\nc.txt\na\nc\n")
    }

    @Test func copyOwnershipAndModes() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("conf/app.conf", "x\n")
        try fixture.write("run.sh", "#!/bin/sh\n")
        let result = try fixture.build(
            "FROM busybox\nWORKDIR /srv\nCOPY --chown=app:staff conf ./conf/\nCOPY --chmod=755 --chown=7 run.sh bin/\n", timestamp: 100)
        let layers = result.image.manifest.layers
        #expect(try fixture.listLayer(layers[1]) == ["drwxr-xr-x 0/0 srv/", "drwxr-xr-x 1000/50 srv/conf/", "-rw-r--r-- 1000/50 srv/conf/app.conf"])
        #expect(try fixture.listLayer(layers[2]) == ["drwxr-xr-x 0/0 srv/", "drwxr-xr-x 7/7 srv/bin/", "-rwxr-xr-x 7/7 srv/bin/run.sh"])
    }

    @Test func cachedRebuildSkipsEveryStep() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("a.txt", "a\n")
        try fixture.write("b.txt", "b\n")
        let dockerfile = """
            FROM busybox
            COPY a.txt /a.txt
            RUN cat /a.txt > /copy-of-a
            COPY b.txt /b.txt
            RUN cat /b.txt > /copy-of-b
            """
        let cold = try fixture.build(dockerfile)
        #expect(cold.executedSteps == 4)
        #expect(cold.cachedSteps == 0)

        let warm = try fixture.build(dockerfile)
        #expect(warm.executedSteps == 0)
        #expect(warm.cachedSteps == 4)
        #expect(warm.image.manifest.layers == cold.image.manifest.layers)

        // Changing b.txt invalidates its COPY and the RUN after it, not the steps before.
        try fixture.write("b.txt", "changed\n")
        let changed = try fixture.build(dockerfile)
        #expect(changed.cachedSteps == 2)
        #expect(changed.executedSteps == 2)

        let uncached = try fixture.build(dockerfile, noCache: true)
        #expect(uncached.executedSteps == 4)
    }

    @Test func runBuildIsReproducible() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let otherRoot = RootDirectory(path: fixture.directory + "/other-root")
        try FileManager.default.copyItem(atPath: fixture.root.path, toPath: otherRoot.path)
        try fixture.write("input.txt", "input\n")
        let dockerfile = """
            FROM busybox
            COPY input.txt /work/
            RUN mkdir -p /out && cat /work/input.txt /work/input.txt > /out/twice.txt
            """
        let first = try fixture.build(dockerfile, timestamp: 1_000_000)
        Thread.sleep(forTimeInterval: 1.1)
        let second = try fixture.build(dockerfile, timestamp: 1_000_000, root: otherRoot)
        #expect(second.executedSteps == 2)
        #expect(first.image.manifest.layers == second.image.manifest.layers)
        #expect(first.image.digest == second.image.digest)
    }

    @Test func failingRunLeavesNoTag() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        do {
            _ = try fixture.build("FROM busybox\nRUN true\nRUN exit 3\n", tags: ["broken"])
            Issue.record("the build succeeded")
        } catch {
            #expect("\(error)" == fixture.context + "/Dockerfile:3: RUN exit 3 failed with exit status 3")
        }
        let store = try ContentStore(root: fixture.root)
        #expect(throws: OCIError.self) { try store.image("broken") }
    }

    @Test func runSeesEnvironmentArgsAndUser() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox
            ARG VERSION=1.2
            ENV HOME_DIR=/home/app
            RUN mkdir -p $HOME_DIR && echo "$VERSION $HOME_DIR" > /env.txt && chown app $HOME_DIR
            USER app
            RUN id -u > $HOME_DIR/uid
            """
        let result = try fixture.build(dockerfile, options: BuildOptions(buildArgs: ["VERSION": "2.0"]))
        let layers = result.image.manifest.layers
        #expect(try fixture.readFile(layers[1], "env.txt") == "2.0 /home/app\n")
        #expect(try fixture.listLayer(layers[2]).contains("-rw-r--r-- 1000/1000 home/app/uid"))
        #expect(try fixture.readFile(layers[2], "home/app/uid") == "1000\n")
        #expect(result.image.config.config?.env == ["HOME_DIR=/home/app"])
        #expect(result.image.config.config?.user == "app")
        let history = result.image.config.history?.map { $0.createdBy ?? "" } ?? []
        #expect(history.contains("|1 VERSION=2.0 /bin/sh -c mkdir -p $HOME_DIR && echo \"$VERSION $HOME_DIR\" > /env.txt && chown app $HOME_DIR"))
    }

    @Test func multiStageCopyFrom() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox AS build
            RUN mkdir /out && echo compiled > /out/app.bin
            FROM busybox AS unused
            RUN exit 1
            FROM busybox
            COPY --from=build /out/app.bin /app/
            RUN test "$(cat /app/app.bin)" = compiled
            """
        let result = try fixture.build(dockerfile)
        #expect(result.plan.stages.map(\.index) == [0, 2])
        #expect(try fixture.listLayer(result.image.manifest.layers[1]) == ["drwxr-xr-x 0/0 app/", "-rw-r--r-- 0/0 app/app.bin"])
    }

    @Test func runHeredocForms() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox
            RUN <<EOF
            echo one > /one
            echo two >> /one
            EOF
            RUN <<EOF
            #!/bin/sh
            echo script > /script-out
            EOF
            RUN cat > /two <<A && cat > /three <<-B
            $PATH
            A
            \ttab
            \tB
            """
        let result = try fixture.build(dockerfile)
        let layers = result.image.manifest.layers
        #expect(try fixture.readFile(layers[1], "one") == "one\ntwo\n")
        #expect(try fixture.readFile(layers[2], "script-out") == "script\n")
        #expect(try fixture.listLayer(layers[2]) == ["-rw-r--r-- 0/0 script-out"])
        #expect(try fixture.readFile(layers[3], "two") == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
        #expect(try fixture.readFile(layers[3], "three") == "tab\n")
    }

    @Test func addExtractsLocalArchives() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("payload/x.txt", "x\n")
        try fixture.write("payload/sub/y.txt", "y\n")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", fixture.context + "/payload.tar.gz", "-C", fixture.context + "/payload", "--owner=0", "--group=0", "."]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)

        let result = try fixture.build("FROM busybox\nADD payload.tar.gz /opt/payload/\nCOPY payload.tar.gz /kept/\n")
        let layers = result.image.manifest.layers
        let added = try fixture.listLayer(layers[1])
        #expect(added.contains("-rw-r--r-- 0/0 opt/payload/x.txt"))
        #expect(added.contains("-rw-r--r-- 0/0 opt/payload/sub/y.txt"))
        #expect(try fixture.readFile(layers[1], "opt/payload/sub/y.txt") == "y\n")
        #expect(try fixture.listLayer(layers[2]) == ["drwxr-xr-x 0/0 kept/", "-rw-r--r-- 0/0 kept/payload.tar.gz"])
    }

    @Test func onbuildTriggersOfBaseRun() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        _ = try fixture.build("FROM busybox\nONBUILD RUN echo triggered > /trigger.txt\n", tags: ["with-trigger"])
        let child = try fixture.build("FROM with-trigger\nRUN cat /trigger.txt > /seen.txt\n", tags: ["child"])
        let layers = child.image.manifest.layers
        #expect(try fixture.readFile(layers[1], "trigger.txt") == "triggered\n")
        #expect(try fixture.readFile(layers[2], "seen.txt") == "triggered\n")
        #expect(child.image.config.config?.onBuild == nil)
    }

    @Test(arguments: ["oci-archive", "docker-archive", "oci"])
    func fromTransportReference(transport: String) throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let store = try ContentStore(root: fixture.root)
        let endpoints = TransferEndpoints(store: store) { _ in .init() }
        let path = fixture.directory + "/base-\(transport)"
        let reference = try TransportReference(parsing: "\(transport):\(path):busybox:1")
        _ = try ImageCopier().copy(from: try endpoints.source(.store("busybox")), to: try endpoints.destination(reference))

        // A fresh root has no busybox: the build copies the base in through the transport.
        // A docker archive with one image needs no name after the path.
        let otherRoot = RootDirectory(path: fixture.directory + "/other-root")
        let base = transport == "docker-archive" ? "\(transport):\(path)" : "\(transport):\(path):busybox:1"
        let result = try fixture.build("FROM \(base)\nRUN echo built > /built.txt\n", root: otherRoot)
        #expect(result.image.manifest.layers.count == 2)
        // docker-archive stores layers uncompressed, so the layer content (diffID) is compared.
        #expect(result.image.config.rootfs.diffIDs[0] == (try store.image("busybox")).config.rootfs.diffIDs[0])
    }

    @Test func repeatedLayerStillMounts() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        // The three RUN steps change nothing, so all their layers are the empty layer.
        let result = try fixture.build("FROM busybox\nRUN true\nRUN true\nRUN true\nRUN echo after > /after.txt\n")
        let diffIDs = result.image.config.rootfs.diffIDs
        #expect(diffIDs.count == 5)
        #expect(diffIDs[1] == diffIDs[2])
        #expect(diffIDs[2] == diffIDs[3])
        #expect(try fixture.readFile(result.image.manifest.layers[4], "after.txt") == "after\n")
    }

    @Test func runLayerLeavesOutMountPoints() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        // The busybox base has no /proc, /sys, /dev, /run or /etc/hosts, and its
        // /etc/resolv.conf becomes a link into the missing /run.
        try FileManager.default.createDirectory(atPath: fixture.context + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: fixture.context + "/etc/resolv.conf", withDestinationPath: "/run/systemd/resolve/stub-resolv.conf")
        let dockerfile = """
            FROM busybox
            COPY etc/ /etc/
            RUN echo built > /built.txt
            RUN test -d /proc/self && test -f /etc/hosts && test -d /sys/kernel && echo ok > /etc/checked
            WORKDIR /srv/app
            RUN true
            """
        let result = try fixture.build(dockerfile)
        let layers = result.image.manifest.layers
        #expect(layers.count == 5)
        // tar lists a symlink as "etc/resolv.conf -> TARGET", so its last field is the target.
        #expect(try fixture.listLayer(layers[1]) == ["drwxr-xr-x 0/0 etc/", "lrwxrwxrwx 0/0 /run/systemd/resolve/stub-resolv.conf"])
        #expect(try fixture.listLayer(layers[2]) == ["-rw-r--r-- 0/0 built.txt"])
        #expect(try fixture.listLayer(layers[3]) == ["drwxr-xr-x 0/0 etc/", "-rw-r--r-- 0/0 etc/checked"])
        // WORKDIR's directory stays: it is the step's own change, not a mount point.
        #expect(try fixture.listLayer(layers[4]) == ["drwxr-xr-x 0/0 srv/", "drwxr-xr-x 0/0 srv/app/"])
    }
}
