import Foundation
import OCI
import Testing

/// `crib run IMAGE` on an image in the store: the layers become overlay lower directories and
/// the container writes to its own upper directory.
@Suite(.serialized)
struct ImageRunTests {
    /// Imports the busybox tree with `crib import` as image `name` under `root`, applying
    /// Dockerfile `changes` to its config, as `owner` when given.
    func importImage(root: String, name: String, changes: [String], owner: String? = nil) throws {
        let rootfs = try BusyboxRootfs(owner: owner)
        defer { rootfs.remove() }
        var arguments = [Shell.crib, "--root", root, "import"]
        for change in changes { arguments += ["--change", change] }
        arguments += [rootfs.path, name]
        let result: Shell.Result
        if let owner {
            result = try Shell.run("/usr/sbin/runuser", ["-u", owner, "--"] + arguments)
        } else {
            result = try Shell.run(arguments[0], Array(arguments.dropFirst()))
        }
        #expect(result.status == 0, "crib import: \(result.error)")
    }

    @Test func imageConfigDrivesTheContainer() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        try importImage(
            root: root.path, name: "busybox-test",
            changes: [
                #"ENTRYPOINT ["sh", "-c"]"#, #"CMD ["id; pwd; echo $GREETING"]"#, "ENV PATH=/bin GREETING=hello",
                "USER app", "WORKDIR /home/app",
            ])

        let result = try Shell.crib(root: root.path, ["run", "--rm", "busybox-test"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "uid=1000(app) gid=1000(app) groups=2000(extra)\n/home/app\nhello\n")

        let overridden = try Shell.crib(
            root: root.path,
            ["run", "--rm", "-u", "root", "-e", "GREETING=bye", "busybox-test", "echo $GREETING; id -u"])
        #expect(overridden.output == "bye\n0\n", "\(overridden.error)")
    }

    @Test func writesLandInTheUpperDirectory() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        try importImage(root: root.path, name: "busybox-test", changes: [#"CMD ["sh"]"#])

        let result = try Shell.crib(
            root: root.path,
            [
                "run", "--name", "writer", "busybox-test", "sh", "-c",
                "echo data > /root/new; rm /etc/group; grep -c overlay /proc/mounts",
            ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "1\n")

        let containers = RootDirectory(path: root.path).containers
        let ids = try FileManager.default.contentsOfDirectory(atPath: containers)
        #expect(ids.count == 1)
        let upper = containers + "/" + ids[0] + "/upper"
        #expect(try String(contentsOfFile: upper + "/root/new", encoding: .utf8) == "data\n")
        // The deletion is an overlay whiteout: the layer itself keeps the file.
        var info = stat()
        #expect(lstat(upper + "/etc/group", &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFCHR)
        let layers = try FileManager.default.contentsOfDirectory(atPath: RootDirectory(path: root.path).layers)
        #expect(
            FileManager.default.fileExists(
                atPath: RootDirectory(path: root.path).layers + "/" + layers[0] + "/etc/group"))

        let removed = try Shell.crib(root: root.path, ["rm", "writer"])
        #expect(removed.status == 0, "\(removed.error)")
        #expect(!FileManager.default.fileExists(atPath: containers + "/" + ids[0]))
    }

    @Test func unknownImageFails() throws {
        let root = TemporaryRoot()
        defer { root.remove() }
        let result = try Shell.crib(root: root.path, ["run", "--rm", "no-such-image"])
        #expect(result.status == 125)
        #expect(result.error.contains("no-such-image"))
    }

    @Test func unprivilegedUserRunsImage() throws {
        try requireRoot()
        let user = "cribtest"
        if (try Shell.run("/usr/bin/id", [user])).status != 0 {
            let created = try Shell.run("/usr/sbin/useradd", ["-m", user])
            #expect(created.status == 0, "useradd \(user): \(created.error)")
        }
        let root = "/home/\(user)/crib-image-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Shell.run("/bin/chown", ["\(user):\(user)", root])
        try importImage(
            root: root, name: "busybox-test", changes: [#"CMD ["sh", "-c", "echo written > /tmp/file; cat /tmp/file; id -u"]"#],
            owner: user)

        let result = try Shell.run(
            "/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "run", "--rm", "busybox-test"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "written\n0\n")

        // A file written by the image's uid 1000 belongs to a subordinate id on the host, and
        // crib rm still removes it.
        let kept = try Shell.run(
            "/usr/sbin/runuser",
            [
                "-u", user, "--", Shell.crib, "--root", root, "run", "--name", "kept", "-u", "app", "busybox-test",
                "sh", "-c", "echo x > /tmp/by-app",
            ])
        #expect(kept.status == 0, "\(kept.error)")
        let removed = try Shell.run("/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "rm", "kept"])
        #expect(removed.status == 0, "\(removed.error)")
        let left = try FileManager.default.contentsOfDirectory(atPath: RootDirectory(path: root).containers)
        #expect(left.isEmpty)
    }

    /// `nobody` has no subordinate ids, so crib maps it alone. overlayfs then leaves a
    /// `work/work` directory of mode 000, which becomes removable only after its owner's chmod.
    @Test func singleMappingRunRemovesContainer() throws {
        try requireRoot()
        let user = "nobody"
        let root = "/tmp/crib-single-map-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Shell.run("/bin/chown", ["\(user)", root])
        try importImage(root: root, name: "busybox-test", changes: [#"CMD ["sh", "-c", "echo x > /tmp/file; id -u"]"#], owner: user)

        for _ in 0..<2 {
            let result = try Shell.run(
                "/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "run", "--rm", "busybox-test"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output == "0\n")
            #expect(!result.error.contains("warning"), "\(result.error)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: RootDirectory(path: root).containers)
        #expect(left.isEmpty, "\(left)")
        let check = try Shell.run("/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "check"])
        #expect(check.status == 0, "\(check.output)\(check.error)")
    }

    @Test func rmiRejectsImageOfKeptContainer() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        try importImage(root: root.path, name: "busybox-test", changes: [#"CMD ["true"]"#])
        let run = try Shell.crib(root: root.path, ["run", "--name", "kept", "busybox-test"])
        #expect(run.status == 0, "\(run.error)")
        let containers = RootDirectory(path: root.path).containers
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: containers).first)

        let rejected = try Shell.crib(root: root.path, ["rmi", "busybox-test"])
        #expect(rejected.status == 125)
        #expect(rejected.error.split(separator: "\n").count == 1, "\(rejected.error)")
        #expect(rejected.error.contains(String(id.prefix(12))))
        #expect(try Shell.crib(root: root.path, ["images"]).output.contains("busybox-test"))

        let forced = try Shell.crib(root: root.path, ["rmi", "--force", "busybox-test"])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: containers).isEmpty)
        #expect(!(try Shell.crib(root: root.path, ["images"]).output.contains("busybox-test")))
    }

    @Test func runFailingBeforeStartLeavesNoContainer() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        try importImage(root: root.path, name: "busybox-test", changes: [#"CMD ["true"]"#])
        let run = try Shell.crib(
            root: root.path, ["run", "--name", "broken", "-v", "/nonexistent-crib-source:/x", "busybox-test"])
        #expect(run.status == 125, "\(run.error)")
        let listed = try Shell.crib(root: root.path, ["ps", "--all"])
        #expect(!listed.output.contains("broken"), "\(listed.output)")
        let containers = RootDirectory(path: root.path).containers
        #expect(try FileManager.default.contentsOfDirectory(atPath: containers).isEmpty)

        // A command that is not there fails in a container that was made, which stays.
        let missing = try Shell.crib(root: root.path, ["run", "--name", "missing", "busybox-test", "/no-such-command"])
        #expect(missing.status == 127)
        #expect(try Shell.crib(root: root.path, ["ps", "--all"]).output.contains("Exited (127)"))
    }
}
