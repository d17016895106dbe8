import Foundation
import OCI
import Testing

/// Kills crib with SIGKILL at every durable step of import, build, pull and push
/// (`CRIB_TEST_KILL_AT`), and at real moments in the middle of a transfer or a RUN step. After
/// every kill the store must pass `crib check`, and the same command must then succeed.
@Suite(.serialized)
struct KillPointTests {
    /// A scratch directory with a crib root at `root` holding `busybox`, an image made by
    /// `crib import` of the host's static busybox.
    final class Setup {
        let directory: String
        var root: String { directory + "/template" }

        init() throws {
            directory = try makeTemporaryDirectory("kill")
            guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
                throw TestFailure("these tests need /bin/busybox (Debian package busybox-static; run scripts/setup.sh)")
            }
            let tree = directory + "/busybox"
            try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: tree + "/bin/busybox")
            for applet in ["sh", "cat", "echo", "sleep", "true"] {
                try FileManager.default.createSymbolicLink(atPath: tree + "/bin/" + applet, withDestinationPath: "busybox")
            }
            try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: tree + "/etc/passwd", atomically: false, encoding: .utf8)
            let imported = try KillLoop.crib(["--root", root, "import", tree, "busybox"])
            guard imported.status == 0 else { throw TestFailure("crib import of busybox failed: \(imported.stderr)") }
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Writes a build context with `dockerfile` and the given files.
        func context(_ name: String, dockerfile: String, files: [String: Data] = [:]) throws -> String {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try dockerfile.write(toFile: path + "/Dockerfile", atomically: false, encoding: .utf8)
            for (file, content) in files {
                try content.write(to: URL(fileURLWithPath: path + "/" + file))
            }
            return path
        }
    }

    /// Random bytes, so that compression cannot shrink a layer.
    static func randomData(_ count: Int) throws -> Data {
        try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom")).readData(ofLength: count)
    }

    // MARK: - Kill at every durable step

    @Test func importKilledAtEveryStep() throws {
        let setup = try Setup()
        let tree = setup.directory + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try Data("imported\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/message"))
        try Self.randomData(1 << 20).write(to: URL(fileURLWithPath: tree + "/payload"))

        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        let kills = try loop.run { root, _ in
            ["--root", root, "import", tree, "imported"]
        } afterSuccess: { root, step in
            let unpacked = setup.directory + "/unpacked-\(step)"
            defer { try? FileManager.default.removeItem(atPath: unpacked) }
            let result = try KillLoop.crib(["--root", root, "unpack", "imported", unpacked])
            #expect(result.status == 0, "step \(step): \(result.stderr)")
            #expect((try? String(contentsOfFile: unpacked + "/etc/message", encoding: .utf8)) == "imported\n", "step \(step)")
        }
        // The first write of the layer, its commit, the config, the manifest and index.json.
        #expect(kills >= 5)
    }

    @Test func buildKilledAtEveryStep() throws {
        let setup = try Setup()
        let token = Self.uniqueToken()
        let context = try setup.context(
            "build",
            dockerfile: """
                FROM busybox
                ENV \(token)
                COPY data.txt /data.txt
                RUN echo built > /built.txt && cat /data.txt >> /built.txt
                RUN echo second > /second.txt
                """,
            files: ["data.txt": Data("context data\n".utf8)])

        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        let kills = try loop.run { root, _ in
            ["--root", root, "build", "-t", "killed", context]
        } afterKill: { root, step in
            // A RUN step's process never outlives the crib that started it.
            #expect(Self.survivors(withEnvironment: token).isEmpty, "step \(step): a RUN process survived crib")
        } afterSuccess: { root, step in
            let result = try KillLoop.crib(["--root", root, "run", "--rm", "killed", "cat", "/built.txt", "/second.txt"])
            #expect(result.status == 0, "step \(step): \(result.stderr)")
            #expect(result.stdout == "built\ncontext data\nsecond\n", "step \(step)")
        }
        // Two RUN layers and one COPY layer, each written, committed and cached, then the image.
        #expect(kills >= 12)
    }

    @Test func pullKilledAtEveryStep() throws {
        let setup = try Setup()
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let reference = "\(registry.host)/kill/pull:1"
        let pushed = try KillLoop.crib(["--root", setup.root, "push", "--tls-verify=false", "busybox", "docker://\(reference)"])
        try #require(pushed.status == 0, "\(pushed.stderr)")
        // The pull starts from a store that has never seen the image.
        let empty = setup.directory + "/empty"
        try #require(try KillLoop.crib(["--root", empty, "check"]).status == 0)

        let loop = KillLoop(template: empty, scratch: setup.directory)
        let kills = try loop.run { root, _ in
            ["--root", root, "pull", "--tls-verify=false", reference]
        } afterSuccess: { root, step in
            let result = try KillLoop.crib(["--root", root, "run", "--rm", reference, "echo", "pulled"])
            #expect(result.status == 0, "step \(step): \(result.stderr)")
            #expect(result.stdout == "pulled\n", "step \(step)")
        }
        #expect(kills >= 4)
    }

    @Test func pushKilledAtEveryStep() throws {
        let setup = try Setup()
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let built = try KillLoop.crib([
            "--root", setup.root, "build", "-t", "pushed",
            try setup.context("push", dockerfile: "FROM busybox\nCOPY data.txt /data.txt\n", files: ["data.txt": Data("pushed\n".utf8)]),
        ])
        try #require(built.status == 0, "\(built.stderr)")

        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        let kills = try loop.run { root, step in
            ["--root", root, "push", "--tls-verify=false", "pushed", "docker://\(registry.host)/kill/push-\(step):1"]
        } afterKill: { _, step in
            // A tag the killed push left in the registry names a whole image.
            let reference = "\(registry.host)/kill/push-\(step):1"
            let other = setup.directory + "/pulled-\(step)"
            defer { try? FileManager.default.removeItem(atPath: other) }
            let tags = try runTool("/usr/bin/skopeo", ["list-tags", "--tls-verify=false", "docker://\(registry.host)/kill/push-\(step)"])
            if tags.status == 0 && tags.stdout.contains("\"1\"") {
                let pulled = try KillLoop.crib(["--root", other, "pull", "--tls-verify=false", reference])
                #expect(pulled.status == 0, "step \(step): the registry names a partial image: \(pulled.stderr)")
            }
        } afterSuccess: { _, step in
            let reference = "\(registry.host)/kill/push-\(step):1"
            let other = setup.directory + "/pulled-\(step)"
            defer { try? FileManager.default.removeItem(atPath: other) }
            let pulled = try KillLoop.crib(["--root", other, "pull", "--tls-verify=false", reference])
            #expect(pulled.status == 0, "step \(step): \(pulled.stderr)")
            let result = try KillLoop.crib(["--root", other, "run", "--rm", reference, "cat", "/data.txt"])
            #expect(result.stdout == "pushed\n", "step \(step): \(result.stderr)")
        }
        // Three blobs (busybox layer, COPY layer, config) and the manifest.
        #expect(kills >= 4)
    }

    @Test func pruneKilledAtEveryStep() throws {
        let setup = try Setup()
        // Two builds under one tag: the first image becomes dangling, with an unpacked RUN layer
        // and blobs that only it references.
        for round in 1...2 {
            let context = try setup.context(
                "prune-\(round)", dockerfile: "FROM busybox\nRUN echo \(round) > /round.txt\nRUN cat /round.txt > /copy.txt\n")
            let built = try KillLoop.crib(["--root", setup.root, "build", "-t", "app", context])
            try #require(built.status == 0, "\(built.stderr)")
        }

        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        let kills = try loop.run { root, _ in
            ["--root", root, "prune"]
        } afterSuccess: { root, step in
            let result = try KillLoop.crib(["--root", root, "run", "--rm", "app", "cat", "/copy.txt"])
            #expect(result.stdout == "2\n", "step \(step): \(result.stderr)")
            let images = try KillLoop.crib(["--root", root, "images", "--format", "json"])
            #expect(!images.stdout.contains("\"Dangling\" : true"), "step \(step): \(images.stdout)")
        }
        // The index update, then the dangling image's manifest, config and two layers, then its unpacked layers.
        #expect(kills >= 5)
    }

    // MARK: - Kill at a real moment

    @Test func pullKilledMidBlob() throws {
        let setup = try Setup()
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let context = try setup.context(
            "large", dockerfile: "FROM busybox\nCOPY payload /payload\n", files: ["payload": try Self.randomData(48 << 20)])
        try #require(try KillLoop.crib(["--root", setup.root, "build", "--compression", "none", "-t", "large", context]).status == 0)
        let reference = "\(registry.host)/kill/large:1"
        try #require(try KillLoop.crib(["--root", setup.root, "push", "--tls-verify=false", "large", "docker://\(reference)"]).status == 0)

        let root = setup.directory + "/pull"
        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        let started = try KillLoop.start(["--root", root, "pull", "--tls-verify=false", reference])
        #expect(Self.waitForTemporaryFile(in: root + "/tmp", largerThan: 1 << 20), "crib pull never wrote 1 MiB of a blob")
        kill(started.process.processIdentifier, SIGKILL)
        let interrupted = started.finish()
        try #require(interrupted.killed, "crib pull finished before it was killed: \(interrupted.stderr)")

        try loop.expectSound(root, after: "a kill in the middle of a pulled blob")
        let listing = try KillLoop.crib(["--root", root, "images", "--format", "json"])
        #expect(!listing.stdout.contains("kill/large"), "the interrupted pull left a name: \(listing.stdout)")
        let again = try KillLoop.crib(["--root", root, "pull", "--tls-verify=false", reference])
        #expect(again.status == 0, "\(again.stderr)")
        let size = try KillLoop.crib(["--root", root, "run", "--rm", reference, "sh", "-c", "cat /payload | wc -c"])
        #expect(size.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(48 << 20)", "\(size.stderr)")
        try loop.expectSound(root, after: "the pull after the kill")
    }

    @Test func pushKilledMidUpload() throws {
        let setup = try Setup()
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let context = try setup.context(
            "large", dockerfile: "FROM busybox\nCOPY payload /payload\n", files: ["payload": try Self.randomData(48 << 20)])
        try #require(try KillLoop.crib(["--root", setup.root, "build", "--compression", "none", "-t", "large", context]).status == 0)
        let reference = "\(registry.host)/kill/upload:1"

        let started = try KillLoop.start(["--root", setup.root, "push", "--tls-verify=false", "large", "docker://\(reference)"])
        #expect(Self.waitForUpload(in: registry.directory + "/data", largerThan: 1 << 20), "the registry never received 1 MiB of an upload")
        kill(started.process.processIdentifier, SIGKILL)
        let interrupted = started.finish()
        try #require(interrupted.killed, "crib push finished before it was killed: \(interrupted.stderr)")

        let loop = KillLoop(template: setup.root, scratch: setup.directory)
        try loop.expectSound(setup.root, after: "a kill in the middle of an upload")
        let tags = try runTool("/usr/bin/skopeo", ["list-tags", "--tls-verify=false", "docker://\(registry.host)/kill/upload"])
        #expect(!tags.stdout.contains("\"1\""), "the interrupted push left a tag: \(tags.stdout)")

        let again = try KillLoop.crib(["--root", setup.root, "push", "--tls-verify=false", "large", "docker://\(reference)"])
        #expect(again.status == 0, "\(again.stderr)")
        let other = setup.directory + "/other"
        let pulled = try KillLoop.crib(["--root", other, "pull", "--tls-verify=false", reference])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        try loop.expectSound(other, after: "pulling what the second push sent")
    }

    @Test func buildKilledDuringRunStep() throws {
        let setup = try Setup()
        let token = Self.uniqueToken()
        let context = try setup.context(
            "run", dockerfile: "FROM busybox\nENV \(token)\nRUN echo started > /marker && sleep 5 && echo finished > /finished\n")
        let root = setup.root

        let started = try KillLoop.start(["--root", root, "build", "-t", "slow", context])
        var markerSeen = false
        for _ in 0..<1000 where !markerSeen {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? []
            markerSeen = runs.contains { FileManager.default.fileExists(atPath: root + "/tmp/" + $0 + "/upper/marker") }
            if !markerSeen { usleep(10_000) }
        }
        #expect(markerSeen, "the RUN step never wrote its marker")
        #expect(!Self.processes(withEnvironment: token).isEmpty, "no RUN process carries \(token), so the check for survivors would prove nothing")
        kill(started.process.processIdentifier, SIGKILL)
        let interrupted = started.finish()
        try #require(interrupted.killed, "crib build finished before it was killed: \(interrupted.stderr)")

        // The container dies with crib: nothing may keep running in the abandoned root file system.
        let survivors = Self.survivors(withEnvironment: token)
        #expect(survivors.isEmpty, "processes \(survivors) kept running after crib was killed")

        let loop = KillLoop(template: root, scratch: setup.directory)
        try loop.expectSound(root, after: "a kill during RUN")
        #expect(try KillLoop.crib(["--root", root, "inspect", "slow"]).status != 0, "the interrupted build left a tag")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? []).isEmpty, "tmp/ kept the killed RUN's directory")

        let again = try KillLoop.crib(["--root", root, "build", "-t", "slow", context])
        #expect(again.status == 0, "\(again.stderr)")
        let result = try KillLoop.crib(["--root", root, "run", "--rm", "slow", "cat", "/marker", "/finished"])
        #expect(result.stdout == "started\nfinished\n", "\(result.stderr)")
        try loop.expectSound(root, after: "the build after the kill")
    }

    /// Ctrl-C sends SIGINT to crib but to nothing inside the container, whose shell would act
    /// on it only after `sleep` ends. So crib must stop the step itself.
    @Test func buildInterruptedDuringRunStep() throws {
        let setup = try Setup()
        let token = Self.uniqueToken()
        let context = try setup.context("interrupt", dockerfile: "FROM busybox\nENV \(token)\nRUN sleep 60 && echo slept > /slept\n")
        let root = setup.root

        let started = try KillLoop.start(["--root", root, "build", "-t", "interrupted", context])
        var running = false
        for _ in 0..<1000 where !running {
            running = !Self.processes(withEnvironment: token).isEmpty
            if !running { usleep(10_000) }
        }
        #expect(running, "the RUN step never started")
        kill(started.process.processIdentifier, SIGINT)
        let interrupted = started.finish()
        #expect(!interrupted.killed)
        #expect(interrupted.status == 125)
        #expect(interrupted.stderr.contains("Dockerfile:3: RUN sleep 60 && echo slept > /slept interrupted by SIGINT"), "\(interrupted.stderr)")
        // The sleep would still run for most of a minute had crib only passed SIGINT on.
        #expect(Self.survivors(withEnvironment: token).isEmpty, "the RUN step kept running after SIGINT")
        #expect(try KillLoop.crib(["--root", root, "inspect", "interrupted"]).status != 0, "the interrupted build left a tag")
        let loop = KillLoop(template: root, scratch: setup.directory)
        try loop.expectSound(root, after: "SIGINT during RUN")
    }

    @Test func killedRunWithRemoveLeavesNoContainer() throws {
        let setup = try Setup()
        let root = setup.root
        let token = Self.uniqueToken()
        let started = try KillLoop.start(["--root", root, "run", "--rm", "-e", token, "busybox", "sleep", "30"])
        var running = false
        for _ in 0..<500 where !running {
            running = !Self.processes(withEnvironment: token).isEmpty
            if !running { usleep(10_000) }
        }
        #expect(running, "the container never started")
        kill(started.process.processIdentifier, SIGKILL)
        #expect(started.finish().killed)
        #expect(Self.survivors(withEnvironment: token).isEmpty, "the container kept running after crib was killed")

        let listing = try KillLoop.crib(["--root", root, "ps", "--all", "--format", "json"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout.filter { !$0.isWhitespace } == "[]", "\(listing.stdout)")
        #expect(listing.stderr.contains("left by a crib process that was killed"), "\(listing.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/containers")) ?? []).isEmpty)
        let removed = try KillLoop.crib(["--root", root, "rmi", "busybox"])
        #expect(removed.status == 0, "\(removed.stderr)")
    }

    // MARK: - Helpers

    /// Returns a `NAME=VALUE` environment entry no other process has, for finding the
    /// processes of one container.
    static func uniqueToken() -> String {
        "CRIB_KILL_TEST=" + UUID().uuidString
    }

    /// Returns the PIDs of processes whose environment contains `token`.
    static func processes(withEnvironment token: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.filter { pid in
            guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environment.split(separator: 0).contains { $0.elementsEqual(token.utf8) }
        }
    }

    /// Waits up to two seconds for the processes with `token` to end, and returns those left.
    static func survivors(withEnvironment token: String) -> [Int32] {
        var left = processes(withEnvironment: token)
        for _ in 0..<100 where !left.isEmpty {
            usleep(20_000)
            left = processes(withEnvironment: token)
        }
        return left
    }

    /// Waits up to ten seconds until a file under `directory` (searched one level deep) is larger than `size`.
    static func waitForTemporaryFile(in directory: String, largerThan size: Int) -> Bool {
        for _ in 0..<1000 {
            if largestFile(under: directory) > size { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits up to ten seconds until an upload in the registry's storage is larger than `size`.
    static func waitForUpload(in directory: String, largerThan size: Int) -> Bool {
        for _ in 0..<1000 {
            if largestFile(under: directory, containing: "/_uploads/") > size { return true }
            usleep(10_000)
        }
        return false
    }

    static func largestFile(under directory: String, containing fragment: String? = nil) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
        var largest = 0
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            if let fragment, !path.contains(fragment) { continue }
            var status = stat()
            if lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG { largest = max(largest, Int(status.st_size)) }
        }
        return largest
    }
}
