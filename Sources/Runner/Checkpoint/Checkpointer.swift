import CRunnerShim
import Foundation
import Layering
import OCI

/// Runs an image, has its processes dumped with the CRIU in the image, and commits the
/// container's changes as one new layer on top of the image.
public final class Checkpointer {
    public struct Options: Sendable {
        public var image: String
        public var tag: String
        /// `KEY=VALUE` for this run only; not written into the new image's config.
        public var environment: [String] = []
        /// Seconds until crib gives up on the container.
        public var timeout: Double = 300
        /// nil: the image checkpoints itself. Otherwise crib dumps once this holds.
        public var trigger: CheckpointTrigger?
        /// After the trigger: this many more requests for an http trigger, seconds otherwise.
        public var warmup = 0

        public init(image: String, tag: String) {
            self.image = image
            self.tag = tag
        }
    }

    /// The directory in the root file system that receives a trigger checkpoint's CRIU images.
    public static let triggerImagesDirectory = "/var/lib/crib-checkpoint"

    private let store: ContentStore
    private let log: any LogSink
    private let executable: String

    public init(store: ContentStore, executable: String = "/proc/self/exe", log: any LogSink = SilentLog()) {
        self.store = store
        self.executable = executable
        self.log = log
    }

    /// Takes the checkpoint and writes the new image.
    public func checkpoint(_ options: Options) throws -> (image: StoredImage, record: CheckpointRecord) {
        let image = try store.image(options.image)
        let lower = try LayerDirectories.lowerDirectories(for: image, store: store, root: store.root, log: log)
        guard let criu = RestorePreparation.findCRIU(in: lower) else {
            throw RunnerError.checkpointFailed(image: options.image, reason: "the image has no criu (looked for /usr/sbin/criu and /usr/bin/criu)")
        }

        let containers = ContainerStore(root: store.root)
        let record = try containers.create(name: nil, image: options.image, command: [], removeOnExit: true)
        defer {
            do {
                try containers.remove(record, force: true)
            } catch {
                log.log(.warning, "failed to remove checkpoint container \(record.name): \(error)")
            }
        }
        let directory = containers.directory(record.id)
        let upper = directory + "/upper"
        let work = directory + "/work"
        let mountPoint = directory + "/rootfs"
        for path in [upper, work, mountPoint] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        if options.trigger != nil {
            try Self.makeDirectory(Self.triggerImagesDirectory, in: upper, copyingFrom: lower)
        }

        var runOptions = RunOptions()
        runOptions.environment = options.environment
        // NOTE: a restore cannot give a process more capabilities than the restoring criu
        // has, so the image's scripts must drop them for the process they dump.
        runOptions.privileged = options.trigger == nil
        if options.trigger != nil {
            // criu suspends a task's seccomp filter to dump it, which takes CAP_SYS_ADMIN. A dump
            // as the application's user does not have it, so the application runs unfiltered,
            // and the restored tree does too.
            runOptions.securityOptions = ["seccomp=unconfined"]
        }
        var spec = try runOptions.makeSpec(
            image: image.config.config, rootfs: .overlay(lower: lower, upper: upper, work: work, mountPoint: mountPoint),
            userLayers: [upper] + lower, stateDirectory: directory, defaultHostname: String(record.id.prefix(12)))

        if options.trigger != nil {
            // criu dumps as the application's user, so that user must own where the images go.
            let imagesDirectory = upper + Self.triggerImagesDirectory
            if Container.isRootless {
                try Container.changeOwnerWithoutRoot(of: imagesDirectory, uid: spec.uid, gid: spec.gid, executable: executable)
            } else {
                try checkSyscall("chown", path: imagesDirectory) { chown(imagesDirectory, spec.uid, spec.gid) }
            }
        }

        // Pipes of crib's own for stdio: CRIU can dump a pipe whatever process has its other end,
        // and a restore replaces it with crib run's descriptors through --inherit-fd, where a
        // host file or terminal would name a mount the container does not have.
        let pattern: NSRegularExpression?
        if case .log(let text)? = options.trigger { pattern = try NSRegularExpression(pattern: text) } else { pattern = nil }
        let input = try Self.makePipe()
        let output = try Self.makePipe()
        let errors = try Self.makePipe()
        close(input.write)
        spec.standardInput = input.read
        spec.standardOutput = output.write
        spec.standardError = errors.write
        let stdio = try [input.read, output.write, errors.write].map(Self.pipeName)
        let relays = [
            OutputRelay(source: output.read, target: STDOUT_FILENO, pattern: pattern),
            OutputRelay(source: errors.read, target: STDERR_FILENO, pattern: pattern),
        ]

        let container = Container(spec: spec, executable: executable, log: log)
        container.forwardSignals()
        do {
            try container.start()
        } catch {
            [input.read, output.write, errors.write, output.read, errors.read].forEach { close($0) }
            throw error
        }
        [input.read, output.write, errors.write].forEach { close($0) }
        relays.forEach { $0.start() }

        let exit = ExitWatcher(container: container)
        let deadline = Date().addingTimeInterval(options.timeout)
        var checkpoint = CheckpointRecord(
            method: options.trigger == nil ? .selfCheckpoint : .trigger,
            phase: Self.phase(in: options.environment), imagesDirectory: "", criuVersion: "", host: try HostProfile.current())

        if let trigger = options.trigger {
            do {
                try waitFor(trigger, container: container, upper: upper, relays: relays, exit: exit, deadline: deadline, image: options.image)
                try warmUp(trigger, count: options.warmup, container: container)
                let (hostPID, pid) = try applicationPID(container: container, image: options.image)
                checkpoint.criuVersion = try criuVersion(container: container, criu: criu, through: hostPID)
                try dump(container: container, criu: criu, pid: pid, through: hostPID, upper: upper, image: options.image)
                checkpoint.imagesDirectory = Self.triggerImagesDirectory
                checkpoint.stdio = stdio
                checkpoint.rootPID = pid
                container.signal(SIGKILL)
            } catch {
                container.signal(SIGKILL)
                _ = exit.wait(until: .distantFuture)
                relays.forEach { $0.waitUntilDone() }
                throw error
            }
            _ = exit.wait(until: .distantFuture)
            relays.forEach { $0.waitUntilDone() }
        } else {
            guard let status = exit.wait(until: deadline) else {
                container.signal(SIGKILL)
                _ = exit.wait(until: .distantFuture)
                relays.forEach { $0.waitUntilDone() }
                throw RunnerError.checkpointFailed(image: options.image, reason: "the container did not exit within \(Self.seconds(options.timeout))")
            }
            relays.forEach { $0.waitUntilDone() }
            guard status == 0 else {
                throw RunnerError.checkpointFailed(image: options.image, reason: "the container exited with status \(status), not 0")
            }
            guard let found = Self.findImagesDirectory(in: upper) else {
                throw RunnerError.checkpointFailed(image: options.image, reason: "the container exited 0 but left no CRIU images (no inventory.img)")
            }
            checkpoint.imagesDirectory = found
            checkpoint.criuVersion = try criuVersion(spec: spec, criu: criu)
        }

        let committed = try commit(image: image, upper: upper, record: checkpoint, tag: options.tag)
        return (committed, checkpoint)
    }

    // MARK: - Trigger

    private func waitFor(
        _ trigger: CheckpointTrigger, container: Container, upper: String, relays: [OutputRelay], exit: ExitWatcher,
        deadline: Date, image: String
    ) throws {
        while true {
            if let status = exit.wait(until: Date()) {
                throw RunnerError.checkpointFailed(image: image, reason: "the container exited with status \(status) before \(trigger) held")
            }
            if try holds(trigger, container: container, upper: upper, relays: relays) { return }
            if Date() > deadline {
                throw RunnerError.checkpointFailed(image: image, reason: "\(trigger) did not hold within the timeout")
            }
            usleep(20_000)
        }
    }

    private func holds(_ trigger: CheckpointTrigger, container: Container, upper: String, relays: [OutputRelay]) throws -> Bool {
        switch trigger {
        case .log:
            return relays.contains { $0.hasMatched }
        case .file(let path):
            var status = stat()
            return lstat(upper + path, &status) == 0
        case .tcp(let port):
            guard let socket = try? connect(container: container, port: port) else { return false }
            close(socket)
            return true
        case .http(let port, let path):
            return (try? request(container: container, port: port, path: path)) ?? false
        }
    }

    private func warmUp(_ trigger: CheckpointTrigger, count: Int, container: Container) throws {
        guard count > 0 else { return }
        if case .http(let port, let path) = trigger {
            for _ in 0..<count { _ = try? request(container: container, port: port, path: path) }
        } else {
            usleep(useconds_t(min(count, 3600)) * 1_000_000)
        }
    }

    private func connect(container: Container, port: UInt16) throws -> Int32 {
        let socket = try container.makeSocket()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            close(socket)
            throw RunnerError.io(SystemError("connect to port \(port) in the container"))
        }
        return socket
    }

    /// Sends one GET that closes its connection, so that no established connection is left
    /// for the dump. Returns true on a 2xx status.
    private func request(container: Container, port: UInt16, path: String) throws -> Bool {
        let socket = try connect(container: container, port: port)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let text = "GET \(path) HTTP/1.1\r\nHost: localhost:\(port)\r\nConnection: close\r\n\r\n"
        _ = text.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let statusLine = String(decoding: response.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let fields = statusLine.split(separator: " ")
        return fields.count >= 2 && fields[0].hasPrefix("HTTP/") && fields[1].hasPrefix("2")
    }

    /// Returns the PIDs, on the host and in the container, of init's child: the root of the
    /// tree to dump.
    private func applicationPID(container: Container, image: String) throws -> (host: Int32, container: Int32) {
        let children = (try? String(contentsOfFile: "/proc/\(container.initPID)/task/\(container.initPID)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ") {
            guard let status = try? String(contentsOfFile: "/proc/\(child)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n") where line.hasPrefix("NSpid:") {
                if let last = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last, let pid = Int32(last), let host = Int32(child.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return (host, pid)
                }
            }
        }
        throw RunnerError.checkpointFailed(image: image, reason: "the container's application has already exited")
    }

    private func dump(container: Container, criu: String, pid: Int32, through hostPID: Int32, upper: String, image: String) throws {
        var arguments = [
            criu, "dump", "--tree", String(pid), "--images-dir", Self.triggerImagesDirectory, "--log-file", "dump.log",
            "--tcp-established",
            // Established connections are locked while dumping; the image has no iptables, and
            // criu 4.2 locks through libnftables.
            "--network-lock", "nftables",
            // When the tree ends, init ends and takes criu's own PID namespace with it, before
            // criu is done. So the tree keeps running, and crib kills the container after criu exits.
            // NOTE: between the dump and the kill the application runs on; a file it changes
            // in that time no longer matches the dump, and the restore fails on it.
            "--leave-running",
        ]
        // criu runs as the application's own user: reading another user's rlimits needs
        // CAP_SYS_RESOURCE, which a host's bounding set may lack. As a non-root user it works
        // in --unprivileged mode, which needs CAP_CHECKPOINT_RESTORE: crib raises it as an
        // ambient capability, so an image's criu needs no file capabilities.
        let applicationUID = container.spec.uid
        let applicationGID = container.spec.gid
        if applicationUID != 0 { arguments.append("--unprivileged") }
        let process = try container.exec(arguments, workingDirectory: "/", through: hostPID) { spec in
            spec.privileged = true
            spec.uid = applicationUID
            spec.gid = applicationGID
            spec.supplementaryGroups = []
            spec.addedCapabilities = [.checkpointRestore, .sysPtrace]
        }
        let status = process.wait()
        if Container.isRootless && (applicationUID != 0 || applicationGID != 0) {
            // criu writes its images readable by their owner alone, a subordinate id that crib's
            // own user cannot read from outside. The container's root is crib's own user.
            let imagesDirectory = upper + Self.triggerImagesDirectory
            if status == 0 {
                try Container.changeOwnerWithoutRoot(of: imagesDirectory, uid: 0, gid: 0, executable: executable)
            } else {
                try? Container.changeOwnerWithoutRoot(of: imagesDirectory, uid: 0, gid: 0, executable: executable)
            }
        }
        guard status == 0 else {
            let logText = (try? String(contentsOfFile: upper + Self.triggerImagesDirectory + "/dump.log", encoding: .utf8)) ?? ""
            let lines = logText.split(separator: "\n")
            var errors = lines.filter { $0.contains("Error") }.suffix(3).joined(separator: "; ")
            // A criu that fails before its first error line or before opening its log leaves none.
            if errors.isEmpty { errors = lines.suffix(2).joined(separator: "; ") }
            if errors.isEmpty { errors = "no dump.log in \(Self.triggerImagesDirectory)" }
            throw RunnerError.checkpointFailed(image: image, reason: "criu dump exited with status \(status): \(errors)")
        }
    }

    // MARK: - CRIU version

    private func criuVersion(container: Container, criu: String, through hostPID: Int32) throws -> String {
        let pipe = try Self.makePipe()
        let process: Container
        do {
            // Privileged like the dump: an image's criu may carry file capabilities, which the
            // kernel refuses to exec (EPERM) where the bounding set lacks one of them.
            process = try container.exec([criu, "--version"], workingDirectory: "/", through: hostPID) { spec in
                spec.privileged = true
                spec.standardOutput = pipe.write
            }
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        let text = Self.readAll(pipe.read)
        _ = process.wait()
        return Self.parseVersion(text)
    }

    /// A self checkpoint's container is gone by now: so a short second run on the same upper
    /// directory runs the image's criu.
    private func criuVersion(spec: ContainerSpec, criu: String) throws -> String {
        var versionSpec = spec
        versionSpec.arguments = [criu, "--version"]
        // Privileged like the checkpoint run itself: an image's criu carries file capabilities,
        // and the kernel refuses to exec it (EPERM) where the bounding set lacks one of them.
        let pipe = try Self.makePipe()
        versionSpec.standardInput = nil
        versionSpec.standardOutput = pipe.write
        versionSpec.standardError = nil
        let container = Container(spec: versionSpec, executable: executable, log: log)
        do {
            try container.start()
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        let text = Self.readAll(pipe.read)
        _ = container.wait()
        return Self.parseVersion(text)
    }

    static func parseVersion(_ text: String) -> String {
        for line in text.split(separator: "\n") where line.hasPrefix("Version:") {
            return line.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces)
        }
        return text.split(separator: "\n").first.map(String.init) ?? ""
    }

    // MARK: - Commit

    private func commit(image: StoredImage, upper: String, record: CheckpointRecord, tag: String) throws -> StoredImage {
        let blob = try store.beginBlob()
        let result: LayerWriter.Result
        do {
            let writer = try LayerWriter(sink: blob, options: LayerWriter.Options(), log: log)
            try LayerDiff.addOverlayUpper(upper, to: writer)
            result = try writer.finish()
        } catch {
            blob.abort()
            throw error
        }
        let layer = try blob.commit(mediaType: result.mediaType, expected: result.digest)

        var config = image.config
        config.rootfs.diffIDs.append(result.diffID)
        let created = Timestamp.rfc3339(Date())
        config.created = created
        var history = config.history ?? []
        let phase = record.phase.map { ", phase \($0)" } ?? ""
        history.append(
            History(
                created: created, createdBy: "crib checkpoint (\(record.method.rawValue)\(phase))",
                comment: "CRIU images in \(record.imagesDirectory)"))
        config.history = history

        var annotations = image.manifest.annotations ?? [:]
        for (key, value) in record.annotations { annotations[key] = value }
        return try store.commitImage(config: config, layers: image.manifest.layers + [layer], annotations: annotations, names: [tag])
    }

    // MARK: - Helpers

    static func phase(in environment: [String]) -> String? {
        for entry in environment.reversed() where entry.hasPrefix("WLP_CHECKPOINT=") {
            return String(entry.dropFirst("WLP_CHECKPOINT=".count))
        }
        return nil
    }

    /// Returns the shallowest directory under `upper` that contains an inventory.img, as a
    /// path in the container.
    static func findImagesDirectory(in upper: String) -> String? {
        var queue = [""]
        while !queue.isEmpty {
            let relative = queue.removeFirst()
            let path = upper + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            if names.contains("inventory.img") { return relative.isEmpty ? "/" : relative }
            for name in names.sorted() {
                var status = stat()
                if lstat(path + "/" + name, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR {
                    queue.append(relative + "/" + name)
                }
            }
        }
        return nil
    }

    /// Makes `path` in the upper directory before the overlay is mounted, each directory
    /// with the mode and owner it has in the layers, so that the merged view keeps them.
    static func makeDirectory(_ path: String, in upper: String, copyingFrom lower: [String]) throws {
        var relative = ""
        for component in path.split(separator: "/") {
            relative += "/" + component
            var mode: mode_t = 0o755
            var owner: (uid_t, gid_t) = (0, 0)
            for layer in lower {
                var status = stat()
                if lstat(layer + relative, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR {
                    mode = status.st_mode & 0o7777
                    owner = (status.st_uid, status.st_gid)
                    break
                }
            }
            let target = upper + relative
            if mkdir(target, mode) != 0 && errno != EEXIST { throw RunnerError.io(SystemError("mkdir", path: target)) }
            chmod(target, mode)
            chown(target, owner.0, owner.1)
        }
    }

    static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try checkSyscall("pipe") { crib_pipe_cloexec(&fds) }
        return (fds[0], fds[1])
    }

    static func pipeName(_ fd: Int32) throws -> String {
        var status = stat()
        try checkSyscall("fstat") { fstat(fd, &status) }
        return "pipe:[\(status.st_ino)]"
    }

    static func readAll(_ fd: Int32) -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        close(fd)
        return String(decoding: data, as: UTF8.self)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// Waits for a container on a thread of its own, so that a loop can poll whether it ended.
final class ExitWatcher: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var status: Int32?

    init(container: Container) {
        let thread = Thread { [self] in
            let result = container.wait()
            lock.lock()
            status = result
            lock.unlock()
            done.signal()
        }
        thread.start()
    }

    /// Returns the exit status once the container has ended, or nil at `deadline`.
    func wait(until deadline: Date) -> Int32? {
        lock.lock()
        if let status {
            lock.unlock()
            return status
        }
        lock.unlock()
        let timeout = DispatchTime.now() + max(0, deadline.timeIntervalSinceNow)
        guard done.wait(timeout: deadline == .distantFuture ? .distantFuture : timeout) == .success else { return nil }
        done.signal()
        lock.lock()
        defer { lock.unlock() }
        return status
    }
}
