import Foundation
import OCI
import Testing

@testable import Build

/// `RUN --mount` in real RUN containers on the busybox base, which lacks every mount target:
/// what the command finds there, that nothing of the mounts reaches the layer, and the cache keys.
@Suite(.serialized)
struct RunMountTests {
    @Test func bindShowsContextReadOnly() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("src/f.txt", "from context\n")
        let result = try fixture.build(
            "FROM busybox\nRUN --mount=type=bind,source=src,target=/mnt/src cat /mnt/src/f.txt > /out.txt\n")
        let layer = result.image.manifest.layers[1]
        #expect(try fixture.listLayer(layer) == ["-rw-r--r-- 0/0 out.txt"])
        #expect(try fixture.readFile(layer, "out.txt") == "from context\n")

        do {
            _ = try fixture.build("FROM busybox\nRUN --mount=type=bind,target=/mnt touch /mnt/new\n", tags: ["writes"])
            Issue.record("a write to a read-only bind mount succeeded")
        } catch {
            #expect("\(error)".contains("Dockerfile:2: RUN --mount=type=bind,target=/mnt touch /mnt/new failed"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.context + "/new"))
    }

    @Test func writableBindDiscardsChanges() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("src/f.txt", "original\n")
        try fixture.write("single.txt", "single\n")
        let dockerfile = """
            FROM busybox
            RUN --mount=type=bind,source=src,target=/mnt/src,rw echo changed > /mnt/src/f.txt && echo new > /mnt/src/g.txt && cat /mnt/src/f.txt /mnt/src/g.txt > /out.txt
            RUN --mount=type=bind,source=single.txt,target=/etc/single.txt,rw echo more >> /etc/single.txt && cat /etc/single.txt > /single.out
            """
        let result = try fixture.build(dockerfile)
        let layers = result.image.manifest.layers
        #expect(try fixture.listLayer(layers[1]) == ["-rw-r--r-- 0/0 out.txt"])
        #expect(try fixture.readFile(layers[1], "out.txt") == "changed\nnew\n")
        // /etc exists in the base, so the copy-up it needed for the mount point goes too.
        #expect(try fixture.listLayer(layers[2]) == ["-rw-r--r-- 0/0 single.out"])
        #expect(try fixture.readFile(layers[2], "single.out") == "single\nmore\n")
        #expect(try String(contentsOfFile: fixture.context + "/src/f.txt", encoding: .utf8) == "original\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.context + "/src/g.txt"))
        #expect(try String(contentsOfFile: fixture.context + "/single.txt", encoding: .utf8) == "single\n")
    }

    @Test func bindFromStageAndImage() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox AS tools
            RUN mkdir -p /opt/tool && echo tool > /opt/tool/version
            FROM busybox
            RUN --mount=from=tools,source=/opt/tool,target=/tool --mount=type=bind,from=busybox,source=/etc,target=/base-etc cat /tool/version /base-etc/group > /out.txt
            """
        let result = try fixture.build(dockerfile)
        let layer = result.image.manifest.layers[1]
        #expect(try fixture.listLayer(layer) == ["-rw-r--r-- 0/0 out.txt"])
        #expect(try fixture.readFile(layer, "out.txt") == "tool\nroot:x:0:\napp:x:1000:\nstaff:x:50:app\n")
    }

    @Test func bindSourceStaysInContext() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        // A file outside the context that the symlinks below would reach if followed on the host.
        try "host file\n".write(toFile: fixture.directory + "/outside.txt", atomically: false, encoding: .utf8)
        try fixture.write("outside.txt", "context file\n")
        try FileManager.default.createSymbolicLink(atPath: fixture.context + "/climbing", withDestinationPath: "../outside.txt")
        try FileManager.default.createSymbolicLink(
            atPath: fixture.context + "/absolute", withDestinationPath: fixture.directory + "/outside.txt")

        let climbing = try fixture.build("FROM busybox\nRUN --mount=source=climbing,target=/m cat /m > /out.txt\n")
        #expect(try fixture.readFile(climbing.image.manifest.layers[1], "out.txt") == "context file\n")

        // The absolute link resolves inside the context, where that path does not exist.
        do {
            _ = try fixture.build("FROM busybox\nRUN --mount=source=absolute,target=/m cat /m > /out.txt\n", tags: ["absolute"])
            Issue.record("a bind source outside the context was mounted")
        } catch {
            #expect("\(error)" == fixture.context + "/Dockerfile:2: RUN --mount source \"absolute\" not found in the build context")
        }
    }

    @Test func cachePersistsOutsideLayers() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox
            RUN --mount=type=cache,target=/var/cache/app,id=app,sharing=locked,mode=0750,uid=1000,gid=50 echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count.txt && stat -c '%a %u %g' /var/cache/app > /owner.txt
            RUN --mount=type=cache,target=/elsewhere,id=app,sharing=private cat /elsewhere/log > /seen.txt
            """
        let first = try fixture.build(dockerfile, noCache: true)
        let layers = first.image.manifest.layers
        #expect(try fixture.listLayer(layers[1]) == ["-rw-r--r-- 0/0 count.txt", "-rw-r--r-- 0/0 owner.txt"])
        #expect(try fixture.readFile(layers[1], "count.txt") == "1\n")
        #expect(try fixture.readFile(layers[1], "owner.txt") == "750 1000 50\n")
        // The same id at another target is the same directory.
        #expect(try fixture.readFile(layers[2], "seen.txt") == "run\n")

        let second = try fixture.build(dockerfile, noCache: true)
        #expect(try fixture.readFile(second.image.manifest.layers[1], "count.txt") == "2\n")
        let entries = try FileManager.default.contentsOfDirectory(atPath: fixture.root.cache + "/mounts")
        #expect(entries.filter { !$0.hasSuffix(".lock") }.count == 1, "\(entries)")

        // The cache's content is not part of the key: a rebuild with the cache hits.
        let cached = try fixture.build(dockerfile)
        #expect(cached.executedSteps == 0)
    }

    @Test func privateCacheInUseStartsEmpty() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = "FROM busybox\nRUN --mount=type=cache,target=/c,id=p,sharing=private echo x >> /c/log && wc -l < /c/log > /count.txt\n"
        let first = try fixture.build(dockerfile, noCache: true)
        #expect(try fixture.readFile(first.image.manifest.layers[1], "count.txt") == "1\n")

        // Another build holds the cache, as the lock file records, so this one gets a new, empty directory.
        let lock = try FileLock(path: fixture.root.cache + "/mounts/" + Digest.sha256(Data("p".utf8)).encoded + ".lock")
        try lock.lock(exclusive: true)
        let busy = try fixture.build(dockerfile, noCache: true)
        lock.unlock()
        #expect(try fixture.readFile(busy.image.manifest.layers[1], "count.txt") == "1\n")

        let free = try fixture.build(dockerfile, noCache: true)
        #expect(try fixture.readFile(free.image.manifest.layers[1], "count.txt") == "2\n")
    }

    @Test func lockedCacheTwiceInOneStep() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        // Both mounts share the one directory; the second must not wait for the first one's lock.
        let result = try fixture.build(
            "FROM busybox\nRUN --mount=type=cache,target=/a,id=l,sharing=locked --mount=type=cache,target=/b,id=l,sharing=locked echo one > /a/x && cat /b/x > /seen.txt\n")
        #expect(try fixture.readFile(result.image.manifest.layers[1], "seen.txt") == "one\n")
    }

    @Test func tmpfsHasSizeAndLeavesNothing() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM busybox
            RUN --mount=type=tmpfs,target=/scratch,size=1m echo t > /scratch/t && df -k /scratch | tail -n 1 > /df.txt && ! dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null
            """
        let result = try fixture.build(dockerfile)
        let layer = result.image.manifest.layers[1]
        #expect(try fixture.listLayer(layer) == ["-rw-r--r-- 0/0 df.txt"])
        let fields = try fixture.readFile(layer, "df.txt").split(separator: " ", omittingEmptySubsequences: true)
        #expect(fields.first == "tmpfs")
        #expect(fields.count > 1, "\(fields)")
        #expect(fields.dropFirst().first == "1024", "\(fields)")
    }

    /// A tmpfs target below an image symlink to a host-looking path resolves inside the rootfs,
    /// as bind and cache targets do. The host directory of the same name stays untouched.
    @Test func tmpfsTargetThroughSymlinkStaysInside() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let sentinel = fixture.context + "-sentinel"
        try FileManager.default.createDirectory(atPath: sentinel, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: sentinel) }
        let dockerfile = """
            FROM busybox
            RUN ln -s \(sentinel) /absolute && ln -s ../../../../../..\(sentinel) /relative
            RUN --mount=type=tmpfs,target=/absolute/t --mount=type=tmpfs,target=/relative/u echo in > /absolute/t/x && cat /absolute/t/x > /out.txt && grep -c ' \(sentinel)/[tu] tmpfs' /proc/mounts >> /out.txt
            """
        let result = try fixture.build(dockerfile)
        let layer = result.image.manifest.layers[2]
        #expect(try fixture.readFile(layer, "out.txt") == "in\n2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sentinel).isEmpty)
    }

    @Test func secretMountsWithoutTrace() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let secretFile = fixture.directory + "/token"
        try "s3cr3t-value".write(toFile: secretFile, atomically: false, encoding: .utf8)
        let secret = BuildSecret(id: "token", source: .file(secretFile))
        let dockerfile = """
            FROM busybox
            RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /length.txt && stat -c '%a %u %g' /run/secrets/token > /mode.txt
            RUN --mount=type=secret,id=token,env=TOKEN,uid=1000,mode=0440,target=/etc/token echo ${#TOKEN} > /length2.txt && stat -c '%a %u' /etc/token > /mode2.txt
            RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped > /absent.txt
            RUN --mount=type=secret,id=token grep -c ' /run/secrets/token .* - tmpfs ' /proc/self/mountinfo > /on-tmpfs.txt
            """
        let shmBefore = Set(try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").filter { $0.hasPrefix("crib-secret-") })
        let result = try fixture.build(dockerfile, secrets: [secret])
        let layers = result.image.manifest.layers
        // The Dockerfile never spells the value, so that finding it in a blob means a leak.
        #expect(try fixture.listLayer(layers[1]) == ["-rw-r--r-- 0/0 length.txt", "-rw-r--r-- 0/0 mode.txt"])
        #expect(try fixture.readFile(layers[1], "length.txt") == "12\n")
        #expect(try fixture.readFile(layers[1], "mode.txt") == "400 0 0\n")
        #expect(try fixture.listLayer(layers[2]) == ["-rw-r--r-- 0/0 length2.txt", "-rw-r--r-- 0/0 mode2.txt"])
        #expect(try fixture.readFile(layers[2], "length2.txt") == "12\n")
        #expect(try fixture.readFile(layers[2], "mode2.txt") == "440 1000\n")
        #expect(try fixture.readFile(layers[3], "absent.txt") == "skipped\n")
        // The copy lives on a tmpfs, never on the store's disk, and is gone after the step.
        #expect(try fixture.readFile(layers[4], "on-tmpfs.txt") == "1\n")
        let shmAfter = Set(try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").filter { $0.hasPrefix("crib-secret-") })
        #expect(shmAfter.subtracting(shmBefore).isEmpty, "\(shmAfter)")

        // The value is in no blob of the store: layers, config and manifest.
        let blobs = fixture.root.store + "/blobs/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
            let data = try Data(contentsOf: URL(fileURLWithPath: blobs + "/" + name))
            #expect(data.range(of: Data("s3cr3t".utf8)) == nil, "blob \(name) contains the secret")
        }
        for layer in layers {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
            gzip.arguments = ["-dc", blobs + "/" + layer.digest.encoded]
            let output = Pipe()
            gzip.standardOutput = output
            try gzip.run()
            let tar = output.fileHandleForReading.readDataToEndOfFile()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
            #expect(!tar.isEmpty)
            #expect(tar.range(of: Data("s3cr3t".utf8)) == nil, "layer \(layer.digest) contains the secret")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.tmp).isEmpty)

        // A new value does not invalidate the steps: a secret's content is not in the key.
        try "changed-value\n".write(toFile: secretFile, atomically: false, encoding: .utf8)
        let rebuilt = try fixture.build(dockerfile, secrets: [secret])
        #expect(rebuilt.executedSteps == 0)
    }

    @Test func requiredSecretMissingNamesLine() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        do {
            _ = try fixture.build("FROM busybox\nRUN true\nRUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc\n")
            Issue.record("the build succeeded without the required secret")
        } catch {
            #expect(
                "\(error)" == fixture.context
                    + "/Dockerfile:3: RUN --mount=type=secret,id=npmrc is required, but no secret npmrc was given; pass crib build --secret id=npmrc,src=PATH")
        }
        let store = try ContentStore(root: fixture.root)
        #expect(throws: OCIError.self) { try store.image("result") }
    }

    @Test func bindContentAndOptionsKeyCache() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        try fixture.write("src/f.txt", "one\n")
        try fixture.write("other.txt", "unrelated\n")
        let dockerfile = "FROM busybox\nRUN --mount=source=src,target=/src cat /src/f.txt > /out.txt\n"
        let cold = try fixture.build(dockerfile)
        #expect(cold.executedSteps == 1)
        let warm = try fixture.build(dockerfile)
        #expect(warm.executedSteps == 0)

        // A file outside the bind source changes nothing.
        try fixture.write("other.txt", "changed\n")
        #expect(try fixture.build(dockerfile).executedSteps == 0)

        try fixture.write("src/f.txt", "two\n")
        let changed = try fixture.build(dockerfile)
        #expect(changed.executedSteps == 1)
        #expect(try fixture.readFile(changed.image.manifest.layers[1], "out.txt") == "two\n")

        // Another target is another step.
        let moved = try fixture.build("FROM busybox\nRUN --mount=source=src,target=/elsewhere cat /elsewhere/f.txt > /out.txt\n")
        #expect(moved.executedSteps == 1)
    }
}
