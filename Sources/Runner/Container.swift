import CRunnerShim
import Foundation
import OCI

/// One running container: spawns the shim, writes the user namespace maps it requests, and
/// reports how the command ended.
///
/// crib starts itself (`executable`, /proc/self/exe by default) with the shim's descriptors
/// named in an environment variable. The C constructor in CRunnerShim takes over that process
/// before the Swift runtime starts, so nothing multi-threaded runs between fork and exec.
public final class Container: @unchecked Sendable {
    public let spec: ContainerSpec
    public let executable: String
    /// The shim process outside the container: signal it to signal the container's command.
    public private(set) var relayPID: pid_t = 0
    /// The host PID of the container's PID 1.
    public private(set) var initPID: pid_t = 0

    private let log: any LogSink
    /// For a process started by `exec`: the init whose namespaces it joins.
    private var joinPID: pid_t?
    private var syncFD: Int32 = -1
    private let syncLock = NSLock()
    private var proxies: [PortProxy] = []
    private var signalSources: [any DispatchSourceSignal] = []
    private var handledSignals: [Int32] = []
    /// Set, under `exitLock`, once the relay has exited and before it is reaped, so that no
    /// signal goes to a PID the kernel may have given to another process.
    private var relayExited = false
    private let exitLock = NSLock()
    private var receivedStopSignal: Int32?

    /// The first signal that made `stopOnSignals` stop the container, if any.
    public var stopSignal: Int32? { exitLock.withLock { receivedStopSignal } }

    /// The fixed descriptors the shim finds its pipes at.
    private static let shimConfigFD: Int32 = 3
    private static let shimSyncFD: Int32 = 4
    private static let shimErrorFD: Int32 = 5

    public init(spec: ContainerSpec, executable: String = "/proc/self/exe", log: any LogSink = SilentLog()) {
        self.spec = spec
        self.executable = executable
        self.log = log
    }

    deinit {
        if syncFD >= 0 { close(syncFD) }
    }

    /// Whether crib runs without root and therefore in a user namespace of its own.
    public static var isRootless: Bool { geteuid() != 0 }

    // MARK: - Start

    /// Starts the container and returns once its command has been executed.
    ///
    /// - Throws: `RunnerError.setupFailed` naming the stage and errno when the shim could not
    ///   set the container up, `RunnerError.commandFailed` when the command could not be run.
    public func start() throws {
        let maps = Self.isRootless ? UserNamespaceMaps.forCurrentUser() : nil
        if let maps, !maps.usesHelpers, spec.uid != 0 || spec.gid != 0 || !spec.supplementaryGroups.isEmpty {
            throw RunnerError.rootlessUnsupported(
                feature: "running as uid \(spec.uid) gid \(spec.gid)",
                reason: "without a range for this user in /etc/subuid and /etc/subgid only root exists in the container"
            )
        }
        if joinPID == nil { try writeEtcFiles() }
        let config = try makeConfig(maps: maps)

        var bound: [PortProxy] = []
        var started = false
        defer {
            if !started { bound.forEach { $0.discard() } }
        }
        for mapping in spec.ports {
            let proxy = PortProxy(mapping: mapping, container: self, log: log)
            try proxy.bind()
            bound.append(proxy)
        }

        var configPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        var syncPair: [Int32] = [-1, -1]
        try checkSyscall("pipe") { crib_pipe_cloexec(&configPipe) }
        try checkSyscall("pipe") { crib_pipe_cloexec(&errorPipe) }
        try checkSyscall("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &syncPair)
        }
        defer {
            close(configPipe[0])
            close(errorPipe[1])
            close(syncPair[1])
        }
        syncFD = syncPair[0]

        relayPID = try spawnShim(config: configPipe[0], sync: syncPair[1], error: errorPipe[1])
        log.log(.debug, "spawned the container shim \(executable == "/proc/self/exe" ? Self.shimExecutable : executable) as PID \(relayPID)")
        close(configPipe[0])
        configPipe[0] = -1
        close(errorPipe[1])
        errorPipe[1] = -1
        close(syncPair[1])
        syncPair[1] = -1

        do {
            try writeAll(config.bytes, to: configPipe[1])
            close(configPipe[1])
            try handshake(maps: joinPID == nil ? maps : nil)
        } catch {
            close(configPipe[1])
            // The shim's own report explains a broken pipe better than the pipe does.
            if let report = readErrorRecord(errorPipe[0]) {
                close(errorPipe[0])
                _ = waitForRelay()
                throw report
            }
            close(errorPipe[0])
            kill(relayPID, SIGKILL)
            _ = waitForRelay()
            throw error
        }

        log.log(.debug, "container init is PID \(initPID)")
        // The error pipe reaches EOF once the command has been executed: every copy of its
        // write end is closed or close-on-exec.
        let report = readErrorRecord(errorPipe[0])
        close(errorPipe[0])
        if let report {
            _ = waitForRelay()
            throw report
        }

        for proxy in bound { proxy.start() }
        proxies = bound
        started = true
        log.log(.debug, "started container with init PID \(initPID) (relay \(relayPID))")
    }

    private func makeConfig(maps: UserNamespaceMaps?) throws -> ShimConfig {
        var config = ShimConfig()
        config.append(.setgroups, number: maps.map { $0.allowsSetgroups ? 1 : 0 } ?? 1)
        if let joinPID {
            var join = ShimConfig.encode(UInt32(joinPID))
            join.append(ShimConfig.encode(UInt32(maps == nil ? 0 : 1)))
            config.append(.join, join)
        } else {
            // CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET.
            var namespaces: UInt32 = 0x0002_0000 | 0x0400_0000 | 0x0800_0000 | 0x2000_0000
            if spec.network != .host { namespaces |= 0x4000_0000 }
            config.append(.namespaces, number: namespaces)
            config.append(.userNamespace, number: maps == nil ? 0 : 1)
            try appendRootfs(to: &config, userNamespace: maps != nil, ttyGroupMapped: maps?.ttyGroupMapped ?? true)
        }
        try appendProcess(to: &config)
        config.finish()
        return config
    }

    private func appendRootfs(to config: inout ShimConfig, userNamespace: Bool, ttyGroupMapped: Bool) throws {
        config.append(.rootfs, string: spec.rootfs.mountPoint)
        if case .overlay(let lower, let upper, let work, _) = spec.rootfs {
            let distinct = LayerDirectories.topmostOccurrences(lower)
            var data = "lowerdir=" + distinct.map(Self.escapeOverlayPath).joined(separator: ":")
            data += ",upperdir=" + Self.escapeOverlayPath(upper) + ",workdir=" + Self.escapeOverlayPath(work)
            // In a user namespace overlayfs may only use user.* xattrs for its own bookkeeping.
            if userNamespace { data += ",userxattr" }
            // NOTE: mount(2) takes at most one page of options, about 30 layers of cache paths;
            // deeper images need the fsconfig "lowerdir+" interface.
            config.append(
                .rootfsFilesystem,
                mount: ShimMount(kind: .filesystem, source: "overlay", target: "", fstype: "overlay", data: data))
        }

        let mounts = spec.shimMounts(userNamespace: userNamespace, ttyGroupMapped: ttyGroupMapped)
        for mount in mounts { config.append(.mount, mount: mount) }
        config.append(.hostname, string: spec.hostname)
        config.append(.pidOffset, number: spec.pidOffset)
        config.append(.reapAll, number: spec.waitsForAllProcesses ? 1 : 0)
    }

    private func appendProcess(to config: inout ShimConfig) throws {
        for argument in spec.arguments { config.append(.argument, string: argument) }
        for variable in spec.environment { config.append(.environment, string: variable) }
        config.append(.workingDirectory, string: spec.workingDirectory)

        var ids = Data()
        for id in [spec.uid, spec.gid] + spec.supplementaryGroups { ids.append(ShimConfig.encode(id)) }
        config.append(.user, ids)

        let bounding = spec.grantedCapabilities
        let isRoot = spec.uid == 0
        let ambient = isRoot ? [] : spec.addedCapabilities.intersection(bounding)
        let permitted = isRoot ? bounding : ambient
        var caps = Data()
        for set in [bounding, permitted, permitted, ambient, ambient] {
            caps.append(ShimConfig.encode(Capability.mask(set)))
        }
        config.append(.capabilities, caps)

        let noNewPrivileges = spec.noNewPrivileges && !spec.privileged
        config.append(.noNewPrivileges, number: noNewPrivileges ? 1 : 0)
        if !spec.privileged, let profile = spec.seccomp {
            let filter = try SeccompFilter(profile: profile, capabilities: bounding)
            config.append(.seccomp, Data(filter.program))
        }
    }

    static func escapeOverlayPath(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if character == "\\" || character == ":" || character == "," { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    private func writeEtcFiles() throws {
        let directory = spec.stateDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        if spec.network == .host, let host = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) {
            hosts = host
        } else {
            hosts += "127.0.1.1\t\(spec.hostname)\n"
        }
        let resolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        for (name, text) in [("hosts", hosts), ("hostname", spec.hostname + "\n"), ("resolv.conf", resolv)] {
            let path = directory + "/" + name
            try FileWriting.write(Data(text.utf8), to: path)
        }
    }

    // MARK: - Shim process

    func spawnShim(config: Int32, sync: Int32, error: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Park the descriptors above the fixed numbers first, so that no dup2 overwrites a
        // source that has yet to be moved.
        var parked: [Int32] = []
        defer { parked.forEach { close($0) } }
        var moves = [(config, Self.shimConfigFD), (sync, Self.shimSyncFD), (error, Self.shimErrorFD)]
        for (source, target) in zip([spec.standardInput, spec.standardOutput, spec.standardError], Int32(0)...) {
            if let source { moves.append((source, target)) }
        }
        for (source, target) in moves {
            let high = try checkSyscall("fcntl F_DUPFD_CLOEXEC") { fcntl(source, F_DUPFD_CLOEXEC, 64) }
            parked.append(high)
            posix_spawn_file_actions_adddup2(&actions, high, target)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment = ProcessInfo.processInfo.environment
        environment[CRIB_SHIM_FDS_ENV] = "\(Self.shimConfigFD):\(Self.shimSyncFD):\(Self.shimErrorFD)"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("crib-shim"), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        // The shim runs from a sealed copy, so that no process in the container leads back to
        // the host's crib or crib-shim binary (see SealedExecutable).
        let program = executable == "/proc/self/exe" ? Self.shimExecutable : executable
        let sealed: String
        do {
            sealed = try SealedExecutable.path(for: program)
        } catch let error as SystemError {
            throw RunnerError.io(error)
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, sealed, &actions, &attributes, argv, envp)
        if result != 0 { throw RunnerError.io(SystemError("spawn", path: program, errno: result)) }
        return pid
    }

    private func handshake(maps: UserNamespaceMaps?) throws {
        if let maps {
            let byte = try readSyncByte()
            guard byte == UInt8(ascii: "U") else {
                throw RunnerError.setupFailed(stage: "sync", message: "unexpected message \(byte) from the shim")
            }
            try maps.apply(to: relayPID)
            log.log(.debug, "wrote the user namespace maps of PID \(relayPID)")
            try writeAll(Data([UInt8(ascii: "M")]), to: syncFD)
        }
        var message = [UInt8](repeating: 0, count: 5)
        try readExactly(&message, from: syncFD)
        guard message[0] == UInt8(ascii: "P") else {
            throw RunnerError.setupFailed(stage: "sync", message: "unexpected message \(message[0]) from the shim")
        }
        initPID = message[1...4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
    }

    private func readSyncByte() throws -> UInt8 {
        var byte = [UInt8](repeating: 0, count: 1)
        try readExactly(&byte, from: syncFD)
        return byte[0]
    }

    /// Reads one `struct crib_error_record`, or nil at EOF.
    func readErrorRecord(_ fd: Int32) -> RunnerError? {
        var record = [UInt8](repeating: 0, count: MemoryLayout<crib_error_record>.size)
        do {
            try readExactly(&record, from: fd)
        } catch {
            return nil
        }
        let number = record.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
        func text(_ range: Range<Int>) -> String {
            String(decoding: record[range].prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let stage = text(4..<36)
        let message = text(36..<record.count)
        if stage == CRIB_STAGE_EXEC {
            return .commandFailed(command: spec.arguments.first ?? "", message: message, errno: number)
        }
        return .setupFailed(stage: stage, message: message)
    }

    // MARK: - Running

    /// Starts another command in this running container's namespaces, with the container's
    /// user, capabilities and seccomp filter; `wait()` on the result returns its status.
    ///
    /// The command's PID is in the container's PID namespace, above the offset, and its
    /// parent is outside it, as with `runc exec`.
    ///
    /// - Parameters:
    ///   - member: the host PID of a process of the container whose namespaces to join,
    ///     init's by default. Init is non-dumpable, so a host user without root may not open
    ///     its /proc/PID/ns entries; the application's own processes, running as that user,
    ///     share the same namespaces and stay open to it.
    ///   - configure: changes to the process's copy of the spec, such as more capabilities or
    ///     no seccomp filter for CRIU; its mounts and namespaces are ignored.
    public func exec(
        _ arguments: [String], environment: [String]? = nil, workingDirectory: String? = nil,
        through member: pid_t? = nil, configure: (inout ContainerSpec) -> Void = { _ in }
    ) throws -> Container {
        guard initPID > 0 else {
            throw RunnerError.setupFailed(stage: "join", message: "the container has not been started")
        }
        var processSpec = spec
        processSpec.arguments = arguments
        processSpec.ports = []
        if let environment { processSpec.environment = environment }
        if let workingDirectory { processSpec.workingDirectory = workingDirectory }
        configure(&processSpec)
        let process = Container(spec: processSpec, executable: executable, log: log)
        process.joinPID = member ?? initPID
        try process.start()
        return process
    }

    /// Waits for the container to end and returns its exit status: the command's own, or
    /// 128 plus the signal that killed it.
    public func wait() -> Int32 {
        let status = waitForRelay()
        for proxy in proxies { proxy.stop() }
        proxies.removeAll()
        for source in signalSources { source.cancel() }
        signalSources.removeAll()
        // Signals that arrive after the container has ended act on crib again as usual.
        for number in handledSignals { Foundation.signal(number, SIG_DFL) }
        handledSignals.removeAll()
        return status
    }

    private func waitForRelay() -> Int32 {
        var information = siginfo_t()
        while waitid(P_PID, id_t(relayPID), &information, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        exitLock.withLock { relayExited = true }

        var status: Int32 = 0
        while waitpid(relayPID, &status, 0) < 0 {
            if errno != EINTR { return 125 }
        }
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    /// Sends `number` to the container's command (through the relay and init).
    public func signal(_ number: Int32) {
        exitLock.withLock {
            if relayPID > 0 && !relayExited { kill(relayPID, number) }
        }
    }

    /// Forwards SIGINT, SIGTERM and SIGHUP to the container's command, then kills the whole
    /// container if it still runs `grace` seconds after the first of them. A build step reads
    /// no terminal, so Ctrl-C must end it even when its shell acts on SIGINT only once its
    /// current child has exited, as POSIX shells do.
    public func stopOnSignals(grace: TimeInterval) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            handleSignal(number) { [weak self] in
                guard let self else { return }
                let first = self.exitLock.withLock { () -> Bool in
                    defer { if self.receivedStopSignal == nil { self.receivedStopSignal = number } }
                    return self.receivedStopSignal == nil
                }
                self.signal(number)
                guard first else { return }
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [weak self] in self?.signal(SIGKILL) }
            }
        }
    }

    /// Forwards these signals, sent to crib, to the container's command until it ends.
    public func forwardSignals(_ numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]) {
        for number in numbers {
            handleSignal(number) { [weak self] in self?.signal(number) }
        }
    }

    /// Runs `handler` for each `number` crib receives until `wait` returns, which restores the
    /// default action.
    private func handleSignal(_ number: Int32, _ handler: @escaping () -> Void) {
        Foundation.signal(number, SIG_IGN)
        handledSignals.append(number)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        signalSources.append(source)
    }

    /// Creates an unconnected TCP socket inside the container's network namespace; connecting
    /// it to 127.0.0.1 reaches the container's own loopback.
    public func makeSocket(family: Int32 = AF_INET) throws -> Int32 {
        syncLock.lock()
        defer { syncLock.unlock() }
        var request = Data([UInt8(ascii: "S")])
        request.append(ShimConfig.encode(family))
        try writeAll(request, to: syncFD)
        var byte: CChar = 0
        var fd: Int32 = -1
        if crib_receive_fd(syncFD, &byte, &fd) < 0 {
            throw RunnerError.io(SystemError("receive a socket from the container"))
        }
        guard byte == CChar(UInt8(ascii: "S")), fd >= 0 else {
            throw RunnerError.setupFailed(stage: "network", message: "the container could not create a socket")
        }
        return fd
    }

    // MARK: - I/O helpers

    func writeAll(_ data: Data, to fd: Int32) throws {
        try data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.write(fd, base + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw RunnerError.io(SystemError("write to the container shim"))
                }
                offset += count
            }
        }
    }

    func readExactly(_ buffer: inout [UInt8], from fd: Int32) throws {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeMutableBytes { bytes in
                bytes.baseAddress.map { Foundation.read(fd, $0 + offset, bytes.count - offset) } ?? 0
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw RunnerError.io(SystemError("read from the container shim"))
            }
            if count == 0 { throw RunnerError.io(SystemError("read from the container shim", errno: EPIPE)) }
            offset += count
        }
    }
}
