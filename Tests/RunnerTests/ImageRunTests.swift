import Foundation
import OCI
import Testing

/// `crib run IMAGE` on an image in the store: the layers become overlay lower directories and
/// the container writes to its own upper directory.
@Suite(.serialized)
struct ImageRunTests {
    /// Stores the busybox tree as a one-layer image named `name` under `root`, with `config`,
    /// and puts the layer where the unpacked-layer cache keeps it.
    func storeImage(root: String, name: String, config: ContainerConfig, owner: String? = nil) throws {
        let rootfs = try BusyboxRootfs(owner: owner)
        defer { rootfs.remove() }
        let tar = FileManager.default.temporaryDirectory.appendingPathComponent("crib-layer-\(UUID().uuidString).tar").path
        defer { try? FileManager.default.removeItem(atPath: tar) }
        let packed = try Shell.run("/bin/tar", ["-C", rootfs.path, "--numeric-owner", "-cf", tar, "."])
        #expect(packed.status == 0, "\(packed.error)")
        let data = try Data(contentsOf: URL(fileURLWithPath: tar))

        let store = try ContentStore(root: RootDirectory(path: root))
        let layer = try store.writeBlob(data, mediaType: .ociLayer)
        var image = ImageConfig(config: config, diffIDs: [layer.digest])
        image.created = "2026-01-01T00:00:00Z"
        try store.commitImage(config: image, layers: [layer], names: [name])

        // NOTE: the test unpacks the layer itself until the unpacked-layer cache can do it on first use.
        let unpacked = RootDirectory(path: root).layers + "/" + layer.digest.description
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        let extracted = try Shell.run("/bin/tar", ["-C", unpacked, "--numeric-owner", "-xf", tar])
        #expect(extracted.status == 0, "\(extracted.error)")
        if let owner { try Shell.run("/bin/chown", ["-R", "\(owner):\(owner)", root]) }
    }

    @Test func imageConfigDrivesTheContainer() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        var config = ContainerConfig()
        config.entrypoint = ["sh", "-c"]
        config.cmd = ["id; pwd; echo $GREETING"]
        config.env = ["PATH=/bin", "GREETING=hello"]
        config.user = "app"
        config.workingDir = "/home/app"
        try storeImage(root: root.path, name: "busybox-test", config: config)

        let result = try Shell.crib(root: root.path, ["run", "--rm", "busybox-test"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "uid=1000(app) gid=1000(app) groups=2000(extra)\n/home/app\nhello\n")

        let overridden = try Shell.crib(root: root.path, ["run", "--rm", "-u", "root", "-e", "GREETING=bye", "busybox-test", "echo $GREETING; id -u"])
        #expect(overridden.output == "bye\n0\n", "\(overridden.error)")
    }

    @Test func writesLandInTheUpperDirectory() throws {
        try requireRoot()
        let root = TemporaryRoot()
        defer { root.remove() }
        var config = ContainerConfig()
        config.cmd = ["sh"]
        try storeImage(root: root.path, name: "busybox-test", config: config)

        let result = try Shell.crib(
            root: root.path, ["run", "--name", "writer", "busybox-test", "sh", "-c", "echo data > /root/new; rm /etc/group; grep -c overlay /proc/mounts"])
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
        #expect(FileManager.default.fileExists(atPath: RootDirectory(path: root.path).layers + "/" + layers[0] + "/etc/group"))

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
        var config = ContainerConfig()
        config.cmd = ["sh", "-c", "echo written > /tmp/file; cat /tmp/file; id -u"]
        try storeImage(root: root, name: "busybox-test", config: config, owner: user)

        let result = try Shell.run("/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "run", "--rm", "busybox-test"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "written\n0\n")

        // A file written by the image's uid 1000 belongs to a subordinate id on the host, and
        // crib rm still removes it.
        let kept = try Shell.run(
            "/usr/sbin/runuser",
            ["-u", user, "--", Shell.crib, "--root", root, "run", "--name", "kept", "-u", "app", "busybox-test", "sh", "-c", "echo x > /tmp/by-app"])
        #expect(kept.status == 0, "\(kept.error)")
        let removed = try Shell.run("/usr/sbin/runuser", ["-u", user, "--", Shell.crib, "--root", root, "rm", "kept"])
        #expect(removed.status == 0, "\(removed.error)")
        let left = try FileManager.default.contentsOfDirectory(atPath: RootDirectory(path: root).containers)
        #expect(left.isEmpty)
    }
}
