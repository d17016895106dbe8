import Foundation
import OCI
import Runner

struct RunCommand: Command {
    static let name = "run"
    static let abstract = "Run a command in a new container of an image"
    static let usage = "run [OPTIONS] IMAGE [COMMAND [ARG...]] | run [OPTIONS] --rootfs DIR COMMAND [ARG...]"
    static let stopsAtFirstPositional = true
    static let options: [OptionSpec] = [
        .flag("rm", help: "remove the container when it exits"),
        .flag("interactive", short: "i", help: "accepted for podman compatibility: stdin always reaches the container"),
        .flag("tty", short: "t", help: "not supported: the container gets crib's stdin, stdout and stderr as they are"),
        .value("name", "NAME", help: "name the container (default: crib-<id prefix>)"),
        .repeated("env", short: "e", "KEY=VALUE", help: "set an environment variable; KEY alone copies crib's value"),
        .repeated("env-file", "FILE", help: "read KEY=VALUE lines from FILE"),
        .repeated("publish", short: "p", "[IP:]HOST:CONTAINER[/tcp]", help: "publish a container port on the host"),
        .repeated("volume", short: "v", "SRC:DST[:ro]", help: "bind mount host path SRC at DST"),
        .value("user", short: "u", "USER[:GROUP]", help: "run as USER (name or uid) and GROUP"),
        .value("workdir", short: "w", "DIR", help: "working directory in the container"),
        .value("entrypoint", "CMD", help: "replace the image's entrypoint (and drop its command)"),
        .value("hostname", "NAME", help: "the container's host name"),
        .repeated("cap-add", "CAP", help: "add a capability (ALL for every one)"),
        .repeated("cap-drop", "CAP", help: "drop a capability (ALL for every one)"),
        .flag("privileged", help: "all capabilities, no seccomp, writable /sys and /proc/sys"),
        .repeated("security-opt", "OPT", help: "seccomp=FILE, seccomp=unconfined, no-new-privileges[=false]"),
        .value("network", "MODE", help: "private (default, loopback only), none or host"),
        .value("net", "MODE", help: "the same as --network"),
        .value("rootfs", "DIR", help: "run in the prepared root file system DIR instead of an image"),
    ]

    let options: RunOptions
    let image: String?
    let rootfs: String?
    let remove: Bool
    let name: String?
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        self.global = global
        if arguments.flag("tty") {
            throw UsageError("--tty is not supported: crib passes its own stdin, stdout and stderr to the container", command: Self.name)
        }
        var options = RunOptions()
        var positionals = arguments.positionals[...]
        rootfs = arguments.value("rootfs")
        if rootfs == nil {
            guard let first = positionals.popFirst() else {
                throw UsageError("run needs an IMAGE or --rootfs DIR; usage: crib \(Self.usage)", command: Self.name)
            }
            image = first
        } else {
            image = nil
        }
        options.command = Array(positionals)

        do {
            for file in arguments.values("env-file") { options.environment += try RunOptions.readEnvironmentFile(file) }
            options.environment += arguments.values("env")
            options.ports = try arguments.values("publish").map(PortMapping.init(parsing:))
            options.volumes = try arguments.values("volume").map(RunOptions.parseVolume)
        }
        options.user = arguments.value("user")
        options.workingDirectory = arguments.value("workdir")
        options.entrypoint = arguments.value("entrypoint")
        options.hostname = arguments.value("hostname")
        options.capAdd = arguments.values("cap-add").flatMap { $0.split(separator: ",").map(String.init) }
        options.capDrop = arguments.values("cap-drop").flatMap { $0.split(separator: ",").map(String.init) }
        options.privileged = arguments.flag("privileged")
        options.securityOptions = arguments.values("security-opt")
        switch arguments.value("network") ?? arguments.value("net") ?? "private" {
        case "private", "bridge", "slirp4netns", "pasta": options.network = .bridge
        case "none": options.network = .none
        case "host": options.network = .host
        case let other:
            throw UsageError("unsupported network \"\(other)\"; use private, none or host", command: Self.name)
        }
        if let workingDirectory = options.workingDirectory, !workingDirectory.hasPrefix("/") {
            throw UsageError("--workdir must be an absolute path, not \"\(workingDirectory)\"", command: Self.name)
        }
        self.options = options
        remove = arguments.flag("rm")
        name = arguments.value("name")
    }

    func run() throws -> Int32 {
        let containers = ContainerStore(root: global.root)
        var record = try containers.create(name: name, image: image ?? rootfs ?? "", command: options.command, removeOnExit: remove)
        let directory = containers.directory(record.id)
        // Until the command is started the container only half exists; like a failed podman
        // create, a failure before then leaves nothing behind.
        var created = false
        defer {
            if remove || !created {
                do {
                    try containers.remove(record, force: false)
                } catch {
                    global.log.log(.warning, "failed to remove container \(record.name): \(error)")
                }
            }
        }

        var prepared = try prepareRootfs(directory: directory)
        record.imageDigest = prepared.imageDigest
        // Saved before the container starts, so that rmi and prune find the image in use from
        // now on. Until then the held store keeps prune from removing its unpacked layers.
        try containers.save(record)
        prepared.heldStore = nil
        var spec = try options.makeSpec(
            image: prepared.config, rootfs: prepared.rootfs, userLayers: prepared.userLayers,
            stateDirectory: directory, defaultHostname: String(record.id.prefix(12)))
        var bridge: StdioBridge?
        if let checkpoint = prepared.checkpoint {
            try prepareRestore(&spec, checkpoint: checkpoint, layers: prepared.userLayers)
            // Both ways restore stdio through criu, which reopens it (see StdioBridge).
            if Container.isRootless {
                bridge = try StdioBridge()
                bridge?.attach(to: &spec)
            }
        }
        record.command = spec.arguments
        record.ports = spec.ports.map(\.description)

        let container = Container(spec: spec, log: global.log)
        container.forwardSignals()
        do {
            try container.start()
        } catch let error as RunnerError {
            // A command that is missing or cannot run failed inside a container that exists.
            if error.exitStatus != 125 {
                created = true
                record.state = .exited
                record.exitCode = error.exitStatus
                try? containers.save(record)
            }
            throw error
        }
        bridge?.start()
        created = true
        record.state = .running
        record.cribPID = getpid()
        record.relayPID = container.relayPID
        try containers.save(record)

        let status = container.wait()
        bridge?.finish()
        record.state = .exited
        record.exitCode = status
        record.cribPID = nil
        record.relayPID = nil
        // crib rm --force may have removed the container while it ran.
        if !remove && FileManager.default.fileExists(atPath: directory) { try containers.save(record) }
        return status
    }

    private struct PreparedRootfs {
        var rootfs: ContainerSpec.Rootfs
        var config: ContainerConfig?
        var userLayers: [String]
        var checkpoint: CheckpointRecord?
        var imageDigest: Digest?
        /// The store, held for writing from before the layers are unpacked until the record names the image.
        var heldStore: ContentStore?
    }

    /// A checkpoint image restores instead of starting: CRIU gets what it needs, and the user
    /// is told what crib granted beyond the options given.
    private func prepareRestore(_ spec: inout ContainerSpec, checkpoint: CheckpointRecord, layers: [String]) throws {
        let image = image ?? ""
        if checkpoint.method == .trigger && !options.command.isEmpty {
            throw UsageError("\(image) is a checkpoint that crib restores itself; give no command after it", command: Self.name)
        }
        let granted = try RestorePreparation.prepare(
            &spec, record: checkpoint, image: image, layers: layers, host: try HostProfile.current())
        if !granted.isEmpty {
            global.log.log(.info, "restoring checkpoint \(image): granted \(granted.joined(separator: ", "))")
        }
        // The restore's upper directory is empty, so criu comes from one of the image's layers.
        if let cache = CRIUKerndatCache.forCurrentUser(), let criu = RestorePreparation.findCRIULayer(in: layers) {
            cache.attach(to: &spec, criu: criu.path, layer: criu.layer, log: global.log)
        }
    }

    private func prepareRootfs(directory: String) throws -> PreparedRootfs {
        if let rootfs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: rootfs, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw UsageError("--rootfs \(rootfs) is not a directory", command: Self.name)
            }
            let absolute = URL(fileURLWithPath: rootfs).standardizedFileURL.path
            return PreparedRootfs(rootfs: .directory(absolute), config: nil, userLayers: [absolute])
        }
        guard let image else { throw UsageError("run needs an IMAGE or --rootfs DIR", command: Self.name) }
        let store = try ContentStore(root: global.root, log: global.log)
        // Held while layers are unpacked through tmp/, and until the container's record is saved.
        try store.holdForWriting()
        let stored = try store.image(image)
        let lower = try LayerDirectories.lowerDirectories(for: stored, store: store, root: global.root, log: global.log)
        let upper = directory + "/upper"
        let work = directory + "/work"
        let mountPoint = directory + "/rootfs"
        for path in [upper, work, mountPoint] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        return PreparedRootfs(
            rootfs: .overlay(lower: lower, upper: upper, work: work, mountPoint: mountPoint),
            config: stored.config.config, userLayers: [upper] + lower,
            checkpoint: try CheckpointRecord(annotations: stored.manifest.annotations, image: image),
            imageDigest: stored.digest, heldStore: store)
    }
}
