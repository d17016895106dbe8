import Foundation
import OCI
import Testing

@Suite(.serialized)
struct CheckpointTests {
    /// Checkpoints the counter once per suite; every restore test reads the same image.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var checkpointed: (last: Int, stderr: String)?

    private func counterCheckpoint(_ setup: CheckpointFixture) throws -> Int {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let checkpointed = Self.checkpointed { return checkpointed.last }
        let result = try setup.fixture.crib(["checkpoint", "counter", "-t", "counter-checkpoint", "-e", "STOP_AT=30", "--timeout", "60"])
        #expect(result.status == 0, "\(result.stderr)")
        let printed = counts(in: result.stdout)
        let last = try #require(printed.last)
        #expect(last >= 30)
        Self.checkpointed = (last, result.stderr)
        return last
    }

    private func inspect(_ setup: CheckpointFixture, _ image: String) throws -> [String: Any] {
        let result = try setup.fixture.crib(["inspect", image])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let first = (object as? [[String: Any]])?.first ?? (object as? [String: Any])
        return try #require(first)
    }

    @Test func selfCheckpointAddsOneAnnotatedLayer() throws {
        let setup = try CheckpointFixture.shared()
        _ = try counterCheckpoint(setup)
        let base = try inspect(setup, "counter")
        let image = try inspect(setup, "counter-checkpoint")

        let store = try ContentStore(root: RootDirectory(path: setup.fixture.root))
        let stored = try store.image("counter-checkpoint")
        let original = try store.image("counter")
        #expect(stored.manifest.layers.count == original.manifest.layers.count + 1)
        #expect(Array(stored.manifest.layers.dropLast()) == original.manifest.layers)
        #expect(stored.config.history?.count == (original.config.history?.count ?? 0) + 1)
        #expect(!(stored.config.config?.env ?? []).contains { $0.hasPrefix("STOP_AT=") }, "--env must not reach the config")

        let annotations = try #require(stored.manifest.annotations)
        #expect(annotations["io.crib.checkpoint"] == "true")
        #expect(annotations["io.crib.checkpoint.method"] == "self")
        #expect(annotations["io.crib.checkpoint.images"] == "/var/lib/counter")
        #expect(annotations["io.crib.checkpoint.criu.version"]?.hasPrefix("4.") == true)
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(annotations["io.crib.checkpoint.host.kernel"] == release)
        #expect(annotations["io.crib.checkpoint.host.cpu.flags"]?.split(separator: " ").contains("fpu") == true)
        #expect(base["Id"] as? String != image["Id"] as? String)
    }

    @Test func twoRestoredContainersCountOnFromCheckpoint() throws {
        let setup = try CheckpointFixture.shared()
        let last = try counterCheckpoint(setup)
        let first = try BackgroundCrib(root: setup.fixture.root, ["run", "--rm", "counter-checkpoint"])
        let second = try BackgroundCrib(root: setup.fixture.root, ["run", "--rm", "counter-checkpoint"])
        Thread.sleep(forTimeInterval: 2)
        let runs = [first.stop(), second.stop()]
        for run in runs {
            let printed = counts(in: run.stdout)
            #expect(printed.first == last + 1, "restored counter printed \(printed.prefix(3)); stderr: \(run.stderr)")
            #expect(printed.count > 10, "the restored counter kept counting: \(printed.count) lines")
            #expect(run.stderr.contains("granted CAP_CHECKPOINT_RESTORE"), "\(run.stderr)")
            // SIGTERM to crib run reached the restored counter.
            #expect(run.ended, "crib run did not end on SIGTERM")
        }
    }

    @Test func podmanRestoreFlagsAlsoRestore() throws {
        let setup = try CheckpointFixture.shared()
        let last = try counterCheckpoint(setup)
        let run = try BackgroundCrib(
            root: setup.fixture.root,
            [
                "run", "--rm", "--cap-add=CHECKPOINT_RESTORE", "--cap-add=NET_ADMIN", "--cap-add=SYS_PTRACE",
                "-v", "/proc/sys/kernel/ns_last_pid:/proc/sys/kernel/ns_last_pid", "counter-checkpoint",
            ])
        Thread.sleep(forTimeInterval: 1.5)
        let result = run.stop()
        #expect(counts(in: result.stdout).first == last + 1, "\(result.stderr)")
        #expect(result.stderr.contains("granted CAP_SYS_ADMIN, CAP_SYS_TIME"), "\(result.stderr)")
        #expect(!result.stderr.contains("CAP_NET_ADMIN"), "NET_ADMIN was given, not granted: \(result.stderr)")
    }

    @Test func restoresAfterStoreCopiedToAnotherRoot() throws {
        let setup = try CheckpointFixture.shared()
        let last = try counterCheckpoint(setup)
        let copy = setup.fixture.scratch + "/copied-root"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        // Only the store: the layer cache of the new root has to be unpacked from the blobs.
        try CheckpointFixture.run("cp", ["-a", setup.fixture.root + "/store", copy + "/store"])
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let run = try BackgroundCrib(root: copy, ["run", "--rm", "counter-checkpoint"])
        Thread.sleep(forTimeInterval: 3)
        let result = run.stop()
        #expect(counts(in: result.stdout).first == last + 1, "\(result.stderr)")
    }

    @Test(arguments: [
        ("io.crib.checkpoint.host.cpu.flags", "fpu crib_absent_flag", "lacks the flag crib_absent_flag"),
        ("io.crib.checkpoint.host.kernel", "999.1.0", "is older than 999.1.0"),
    ])
    func refusesRestoreHostCannotDo(key: String, value: String, reason: String) throws {
        let setup = try CheckpointFixture.shared()
        _ = try counterCheckpoint(setup)
        let store = try ContentStore(root: RootDirectory(path: setup.fixture.root))
        let stored = try store.image("counter-checkpoint")
        var annotations = try #require(stored.manifest.annotations)
        annotations[key] = value
        try store.commitImage(config: stored.config, layers: stored.manifest.layers, annotations: annotations, names: ["edited"])

        let result = try setup.fixture.crib(["run", "--rm", "edited"])
        #expect(result.status == 125)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains("failed to restore edited: ") == true, "\(result.stderr)")
        #expect(lines.first?.contains(reason) == true, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func triggerCheckpointedServerAnswersThroughPort() throws {
        let setup = try CheckpointFixture.shared()
        let checkpoint = try setup.fixture.crib([
            "checkpoint", "server", "-t", "server-checkpoint", "--trigger", "http://localhost:8080/", "--warmup", "2",
            "--timeout", "30",
        ])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        #expect(checkpoint.stdout.contains("request 3"), "the trigger and two warm-up requests: \(checkpoint.stdout)")
        let store = try ContentStore(root: RootDirectory(path: setup.fixture.root))
        let annotations = try #require(try store.image("server-checkpoint").manifest.annotations)
        #expect(annotations["io.crib.checkpoint.method"] == "trigger")
        #expect(annotations["io.crib.checkpoint.images"] == "/var/lib/crib-checkpoint")

        let summary = try setup.fixture.crib(["inspect", "--checkpoint", "server-checkpoint"])
        #expect(summary.status == 0, "\(summary.stderr)")
        #expect(summary.stdout.contains("method:          trigger"))
        #expect(summary.stdout.contains("processes:       1 (PIDs 1001)"), "\(summary.stdout)")
        #expect(summary.stdout.contains("CRIU version:    4."))
        #expect(summary.stdout.contains("this host:       can restore"))

        let port = UInt16.random(in: 20000...40000)
        let run = try BackgroundCrib(root: setup.fixture.root, ["run", "--rm", "-p", "127.0.0.1:\(port):8080", "server-checkpoint"])
        var answer = ""
        for _ in 0..<100 {
            if let text = httpGet(port: port) {
                answer = text
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let second = httpGet(port: port) ?? ""
        let result = run.stop()
        #expect(answer.hasSuffix("served 4\n"), "first answer after restore: \(answer); stderr: \(result.stderr)")
        #expect(second.hasSuffix("served 5\n"))
        #expect(result.stdout.contains("request 4"), "the restored server's stdout reaches crib run's: \(result.stdout)")
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm/crib-criu-kdat-0")) ?? []
        #expect(cached.contains { $0.hasSuffix("-root.kdat") }, "criu's kernel feature cache after a restore: \(cached)")
    }

    @Test func shimBesideCribIsSpawned() throws {
        let setup = try CheckpointFixture.shared()
        let shim = (CribFixture.binary as NSString).deletingLastPathComponent + "/crib-shim"
        guard FileManager.default.isExecutableFile(atPath: shim) else {
            Issue.record("crib-shim is missing beside \(CribFixture.binary); scripts/test.sh installs it there")
            return
        }
        let result = try setup.fixture.crib(["--debug", "run", "--rm", "--network", "none", "server", "true"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("spawned the container shim \(shim) as PID"), "\(result.stderr)")
    }

    @Test func writableShimIsNotSpawned() throws {
        let setup = try CheckpointFixture.shared()
        let directory = setup.fixture.scratch + "/writable-shim"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let shim = (CribFixture.binary as NSString).deletingLastPathComponent + "/crib-shim"
        try CribFixture.copyExecutable(CribFixture.binary, to: directory + "/crib")
        try CribFixture.copyExecutable(shim, to: directory + "/crib-shim")
        // Another user who may write the shim could run code as crib's user (often root).
        chmod(directory + "/crib-shim", 0o775)

        // Tests running in parallel fork while the copy's descriptor is still open. A child that
        // inherited it makes exec fail with ETXTBSY until that child execs, so the exec is retried.
        var outcome: CribFixture.Result?
        for _ in 0..<50 where outcome == nil {
            do {
                outcome = try CribFixture.execute(
                    directory + "/crib", ["--root", setup.fixture.root, "--debug", "run", "--rm", "--network", "none", "server", "true"])
            } catch let error as NSError where (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(ETXTBSY) {
                usleep(100_000)
            }
        }
        let result = try #require(outcome, "the copied crib stayed busy (ETXTBSY) for 5 seconds")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("spawned the container shim /proc/self/exe as PID"), "\(result.stderr)")
    }

    @Test func unprivilegedUserCheckpointsAndRestoresServer() throws {
        let setup = try CheckpointFixture.shared()
        let user = try UnprivilegedCrib(setup, images: ["server"])
        defer { user.remove() }
        try checkpointAndRestoreServer(as: user, image: "server")
    }

    @Test func unprivilegedUserCheckpointsNonRootServer() throws {
        let setup = try CheckpointFixture.shared()
        // The same server, run as uid 65534: criu dumps it as that user, a subordinate id on the host.
        let store = try ContentStore(root: RootDirectory(path: setup.fixture.root))
        let server = try store.image("server")
        var config = server.config
        config.config?.user = "65534:65534"
        try store.commitImage(config: config, layers: server.manifest.layers, annotations: nil, names: ["server-nobody"])

        let user = try UnprivilegedCrib(setup, images: ["server-nobody"])
        defer { user.remove() }
        try checkpointAndRestoreServer(as: user, image: "server-nobody")
    }

    @Test func unprivilegedUserSelfCheckpointResumesCount() throws {
        let setup = try CheckpointFixture.shared()
        let user = try UnprivilegedCrib(setup, images: ["counter"])
        defer { user.remove() }
        let checkpoint = try user.crib(["checkpoint", "counter", "-t", "counter-checkpoint", "-e", "STOP_AT=30", "--timeout", "60"])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        let last = try #require(counts(in: checkpoint.stdout).last)

        let run = try BackgroundCrib(command: user.command, ["run", "--rm", "counter-checkpoint"])
        Thread.sleep(forTimeInterval: 2)
        let result = run.stop()
        let printed = counts(in: result.stdout)
        #expect(printed.first == last + 1, "restored counter printed \(printed.prefix(3)); stderr: \(result.stderr)")
        #expect(printed.count > 10, "the restored counter kept counting: \(printed.count) lines")
        #expect(result.ended, "crib run did not end on SIGTERM")
    }

    /// Checkpoints `image` (the counting server) with an http trigger as `user`, restores it
    /// and expects the response to the next request and the server's output through crib run.
    private func checkpointAndRestoreServer(as user: UnprivilegedCrib, image: String) throws {
        let checkpoint = try user.crib([
            "checkpoint", image, "-t", "server-checkpoint", "--trigger", "http://localhost:8080/", "--timeout", "30",
        ])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        #expect(checkpoint.stdout.contains("request 1"), "\(checkpoint.stdout)")

        let port = UInt16.random(in: 20000...40000)
        let run = try BackgroundCrib(command: user.command, ["run", "--rm", "-p", "127.0.0.1:\(port):8080", "server-checkpoint"])
        var answer = ""
        for _ in 0..<100 {
            if let text = httpGet(port: port) {
                answer = text
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let result = run.stop()
        #expect(answer.hasSuffix("served 2\n"), "first answer after restore: \(answer); stderr: \(result.stderr)")
        #expect(result.stdout.contains("request 2"), "the restored server's stdout reaches crib run's: \(result.stdout)")
        // Without root criu keeps its kernel feature cache elsewhere, so crib points it at the mounted file.
        let uid = try #require(UInt32(try CribFixture.execute("/usr/bin/id", ["-u", UnprivilegedCrib.user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm/crib-criu-kdat-\(uid)")) ?? []
        #expect(cached.contains { $0.hasSuffix("-unprivileged.kdat") }, "criu's kernel feature cache after a rootless restore: \(cached)")
    }
}

/// Sends one GET to 127.0.0.1:port and returns the whole response, or nil when nothing listens.
private func httpGet(port: UInt16) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    guard !response.isEmpty else { return nil }
    return String(decoding: response, as: UTF8.self)
}
