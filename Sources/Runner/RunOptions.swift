import Foundation
import OCI

/// The options of `crib run` and its callers, applied over the image's own configuration.
public struct RunOptions: Sendable {
    /// `KEY=VALUE` from `-e` (a bare `KEY` takes crib's own value), after `--env-file` entries.
    public var environment: [String] = []
    public var user: String?
    public var workingDirectory: String?
    /// `--entrypoint`: replaces the image's entrypoint and drops its command, as podman does.
    public var entrypoint: String?
    public var command: [String] = []
    public var hostname: String?
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    /// `seccomp=FILE`, `seccomp=unconfined`, `no-new-privileges[=true|false]`.
    public var securityOptions: [String] = []
    public var network = ContainerSpec.Network.bridge
    public var ports: [PortMapping] = []
    public var volumes: [ContainerSpec.BindMount] = []

    public init() {}

    /// Parses `-v SRC:DST[:ro|rw]`; SRC must be an absolute host path (named volumes do not exist in crib).
    public static func parseVolume(_ text: String) throws -> ContainerSpec.BindMount {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RunnerError.invalidOption("--volume", value: text, reason: "expected SRC:DST[:ro]")
        }
        guard parts[0].hasPrefix("/") else {
            throw RunnerError.invalidOption("--volume", value: text, reason: "the source must be an absolute host path")
        }
        guard parts[1].hasPrefix("/") else {
            throw RunnerError.invalidOption("--volume", value: text, reason: "the destination must be an absolute path")
        }
        var readOnly = false
        if parts.count == 3 {
            for option in parts[2].split(separator: ",") {
                switch option {
                case "ro": readOnly = true
                case "rw": readOnly = false
                case "z", "Z": continue  // SELinux relabelling: nothing to do without SELinux.
                default:
                    throw RunnerError.invalidOption(
                        "--volume", value: text, reason: "unknown option \"\(option)\"; use ro or rw")
                }
            }
        }
        return ContainerSpec.BindMount(source: parts[0], destination: parts[1], readOnly: readOnly)
    }

    /// Reads an `--env-file`: one `KEY=VALUE` or bare `KEY` per line, `#` comments.
    public static func readEnvironmentFile(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunnerError.io(SystemError("read", path: path, errno: errno == 0 ? ENOENT : errno))
        }
        var entries: [String] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        ).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let name = line.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
                throw RunnerError.invalidOption(
                    "--env-file", value: "\(path):\(index + 1)", reason: "expected KEY=VALUE, got \"\(line)\"")
            }
            entries.append(line)
        }
        return entries
    }

    // MARK: - Merging with the image

    /// Builds the container's spec from the image configuration and these options, as podman
    /// merges them.
    ///
    /// - Parameters:
    ///   - image: the image's `config` object, nil for a bare root file system.
    ///   - userLayers: directories to read /etc/passwd and /etc/group from, upper layers first.
    public func makeSpec(
        image: ContainerConfig?, rootfs: ContainerSpec.Rootfs, userLayers: [String], stateDirectory: String,
        defaultHostname: String
    ) throws -> ContainerSpec {
        let arguments: [String]
        if let entrypoint {
            arguments = (entrypoint.isEmpty ? [] : [entrypoint]) + command
        } else {
            arguments = (image?.entrypoint ?? []) + (command.isEmpty ? (image?.cmd ?? []) : command)
        }
        guard !arguments.isEmpty else {
            throw RunnerError.invalidOption(
                "command", value: "", reason: "the image has no entrypoint or command; give one after the image")
        }

        let hostname = hostname ?? (network == .host ? ProcessInfo.processInfo.hostName : defaultHostname)
        var environment = Environment(image?.env ?? [])
        if environment["PATH"] == nil {
            environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        }
        environment["HOSTNAME"] = hostname
        for entry in self.environment {
            // The kernel passes any bytes, but a name that is empty or contains a NUL cannot
            // be looked up by any program, and podman rejects it too.
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !name.isEmpty, !name.contains("\0") else {
                throw RunnerError.invalidOption("--env", value: entry, reason: "the variable name must not be empty")
            }
            if entry.contains("=") {
                environment.set(entry)
            } else if let value = ProcessInfo.processInfo.environment[entry] {
                environment[entry] = value
            }
        }

        var spec = ContainerSpec(rootfs: rootfs, arguments: arguments, environment: [], stateDirectory: stateDirectory)
        let userText = user ?? image?.user ?? ""
        if !userText.isEmpty {
            let resolved = try UserResolver.load(fromLayers: userLayers).resolve(userText)
            spec.uid = resolved.uid
            spec.gid = resolved.gid
            spec.supplementaryGroups = resolved.supplementaryGroups
            if environment["HOME"] == nil { environment["HOME"] = resolved.home }
        }
        if environment["HOME"] == nil { environment["HOME"] = "/root" }
        spec.environment = environment.entries
        spec.workingDirectory = workingDirectory ?? (image?.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/")
        spec.hostname = hostname
        spec.network = network
        spec.ports = ports
        spec.binds = volumes
        spec.writableLastPid = volumes.contains(where: ContainerSpec.isLastPidBind)
        spec.privileged = privileged
        try applyCapabilities(to: &spec)
        try applySecurityOptions(to: &spec)

        if !ports.isEmpty && network != .bridge {
            throw RunnerError.invalidOption(
                "--publish", value: ports.map(\.description).joined(separator: ","),
                reason: "publishing needs the private network, not --network \(network.rawValue)")
        }
        return spec
    }

    private func applyCapabilities(to spec: inout ContainerSpec) throws {
        var set = Capability.defaultSet
        var added: Set<Capability> = []
        for name in capDrop {
            if name.uppercased() == "ALL" {
                set.removeAll()
                continue
            }
            guard let capability = Capability(name: name) else {
                throw RunnerError.invalidOption("--cap-drop", value: name, reason: "unknown capability")
            }
            set.remove(capability)
        }
        for name in capAdd {
            if name.uppercased() == "ALL" {
                set = Capability.all()
                added = set
                continue
            }
            guard let capability = Capability(name: name) else {
                throw RunnerError.invalidOption("--cap-add", value: name, reason: "unknown capability")
            }
            set.insert(capability)
            added.insert(capability)
        }
        spec.capabilities = set
        spec.addedCapabilities = added
    }

    private func applySecurityOptions(to spec: inout ContainerSpec) throws {
        for option in securityOptions {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            switch (key, value) {
            case ("seccomp", "unconfined"?):
                spec.seccomp = nil
            case ("seccomp", let path?):
                spec.seccomp = try SeccompProfile.load(path: path)
            case ("no-new-privileges", nil), ("no-new-privileges", "true"?):
                spec.noNewPrivileges = true
            case ("no-new-privileges", "false"?):
                spec.noNewPrivileges = false
            case ("label", _), ("apparmor", _):
                continue  // No SELinux or AppArmor here; accepted so that podman command lines work.
            default:
                throw RunnerError.invalidOption(
                    "--security-opt", value: option,
                    reason: "expected seccomp=FILE, seccomp=unconfined or no-new-privileges[=false]")
            }
        }
    }
}

/// An ordered `KEY=VALUE` list where a later value replaces an earlier one in place.
struct Environment {
    private(set) var entries: [String]

    init(_ entries: [String]) {
        self.entries = []
        for entry in entries { set(entry) }
    }

    subscript(name: String) -> String? {
        get {
            entries.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        set {
            if let newValue { set(name + "=" + newValue) } else { entries.removeAll { $0.hasPrefix(name + "=") } }
        }
    }

    mutating func set(_ entry: String) {
        let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
        if let index = entries.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            entries[index] = entry
        } else {
            entries.append(entry)
        }
    }
}
