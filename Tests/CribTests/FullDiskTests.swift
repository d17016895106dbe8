import Foundation
import Testing

/// A crib root on a small tmpfs that fills up in the middle of a build.
@Suite(.serialized)
struct FullDiskTests {
    /// A tmpfs of `megabytes` MiB mounted on a new temporary directory, unmounted by `remove`.
    final class SmallFileSystem {
        let path: String

        init(megabytes: Int) throws {
            guard geteuid() == 0 else { throw TestFailure("mounting a tmpfs needs root; run the tests as root") }
            path = try makeTemporaryDirectory("full-disk")
            let mounted = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path])
            guard mounted.status == 0 else { throw TestFailure("mount -t tmpfs on \(path) failed: \(mounted.stderr)") }
        }

        /// Gives the file system `megabytes` MiB, keeping its files.
        func resize(megabytes: Int) throws {
            let remounted = try runTool("/bin/mount", ["-o", "remount,size=\(megabytes)m", path])
            guard remounted.status == 0 else { throw TestFailure("remount of \(path) failed: \(remounted.stderr)") }
        }

        /// Returns the bytes still free.
        func available() -> Int {
            var status = statvfs()
            guard statvfs(path, &status) == 0 else { return 0 }
            return Int(status.f_bavail) * Int(status.f_frsize)
        }

        func remove() {
            _ = try? runTool("/bin/umount", [path])
            rmdir(path)
        }
    }

    /// With gzip the layer is compressed on worker threads, whose write error must still reach the command.
    @Test(arguments: ["none", "gzip"])
    func copyLargerThanFreeSpaceFailsCleanly(compression: String) throws {
        let setup = try KillPointTests.Setup()
        let disk = try SmallFileSystem(megabytes: 24)
        defer { disk.remove() }
        let root = disk.path + "/root"
        try copyTree(setup.root, to: root)

        // More random bytes than the file system has left, after a RUN step that fits.
        let free = disk.available()
        let context = try setup.context(
            "full",
            dockerfile: "FROM busybox\nRUN echo before > /before.txt\nCOPY big.bin /big.bin\nRUN echo after > /after.txt\n",
            files: ["big.bin": try KillPointTests.randomData(free + (4 << 20))])
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: root + "/store/index.json"))

        let failed = try KillLoop.crib(["--root", root, "build", "--compression", compression, "-t", "big", context])
        #expect(failed.status == 125, "\(failed.stderr)")
        let errors = failed.stderr.split(separator: "\n").filter { $0.hasPrefix("crib: ") }
        #expect(errors.count == 1, "expected one error line: \(failed.stderr)")
        let error = errors.first.map(String.init) ?? ""
        #expect(error.contains("No space left on device") || error.contains("ENOSPC"), "\(error)")
        #expect(error.contains(root), "the error names no object in the store: \(error)")
        #expect(error.contains("Dockerfile:3: COPY big.bin /big.bin: "), "the error names no Dockerfile line: \(error)")

        let loop = KillLoop(template: root, scratch: setup.directory)
        try loop.expectSound(root, after: "a build that filled the disk")
        #expect(try KillLoop.crib(["--root", root, "inspect", "big"]).status != 0, "the failed build left a tag")
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/store/index.json")) == indexBefore)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? []).isEmpty, "the failed build left files in tmp/")

        try disk.resize(megabytes: 24 + 3 * (free >> 20) + 32)
        let built = try KillLoop.crib(["--root", root, "build", "--compression", compression, "-t", "big", context])
        #expect(built.status == 0, "\(built.stderr)")
        let result = try KillLoop.crib(["--root", root, "run", "--rm", "big", "cat", "/before.txt", "/after.txt"])
        #expect(result.stdout == "before\nafter\n", "\(result.stderr)")
        try loop.expectSound(root, after: "the build after freeing space")
    }
}
