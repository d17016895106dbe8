import CRunnerShim
import Foundation
import Testing

@testable import Runner

struct CRIUKerndatCacheTests {
    /// Makes a fresh directory on /dev/shm, the tmpfs the cache lives on.
    private func makeParent() throws -> String {
        var template = Array("/dev/shm/crib-kdat-test.XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template), "mkdtemp on /dev/shm failed: errno \(errno)")
        return String(cString: directory)
    }

    @Test func cacheDirectoryIsPrivateOnTmpfs() throws {
        let parent = try makeParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let cache = try #require(CRIUKerndatCache.forCurrentUser(parent: parent))

        var status = stat()
        #expect(lstat(cache.directory, &status) == 0)
        #expect(status.st_uid == geteuid())
        #expect(status.st_mode & 0o777 == 0o700)
    }

    @Test func writableByOthersIsRejected() throws {
        let parent = try makeParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let directory = parent + "/crib-criu-kdat-\(geteuid())"
        #expect(mkdir(directory, 0o700) == 0)
        #expect(chmod(directory, 0o777) == 0)
        #expect(CRIUKerndatCache.forCurrentUser(parent: parent) == nil)
    }

    @Test func symlinkInPlaceOfDirectoryIsRejected() throws {
        let parent = try makeParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let elsewhere = parent + "/elsewhere"
        #expect(mkdir(elsewhere, 0o700) == 0)
        #expect(symlink(elsewhere, parent + "/crib-criu-kdat-\(geteuid())") == 0)
        #expect(CRIUKerndatCache.forCurrentUser(parent: parent) == nil)
    }

    @Test func parentOffTmpfsIsRejected() throws {
        // criu writes its cache only on a tmpfs, which a reboot (and so a new kernel) empties.
        let parent = try FileManager.default.url(
            for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/var/tmp"), create: true
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try #require(crib_is_tmpfs(parent) == 0, "\(parent) is on a tmpfs; the test needs a disk file system")
        #expect(CRIUKerndatCache.forCurrentUser(parent: parent) == nil)
    }

    @Test func fileNameFollowsCriuAndCapabilities() throws {
        let cache = CRIUKerndatCache(directory: "/dev/shm/cache")
        var spec = ContainerSpec(rootfs: .directory("/"), arguments: [], environment: [], stateDirectory: "/tmp")
        let layer = "/var/lib/crib/layers/sha256:abc"
        let plain = cache.file(criu: "/usr/sbin/criu", layer: layer, spec: spec)
        #expect(plain.hasPrefix("/dev/shm/cache/sha256-abc-usr_sbin_criu-"))
        #expect(cache.file(criu: "/usr/bin/criu", layer: layer, spec: spec) != plain)
        #expect(cache.file(criu: "/usr/sbin/criu", layer: "/var/lib/crib/layers/sha256:def", spec: spec) != plain)
        spec.capabilities.insert(.checkpointRestore)
        #expect(cache.file(criu: "/usr/sbin/criu", layer: layer, spec: spec) != plain)
    }
}
