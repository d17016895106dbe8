import Foundation

/// Turns the spec of `crib run` on a checkpoint image into one that can restore it.
public enum RestorePreparation {
    /// The capabilities upstream CRIU 4.2.1 needs in a container to restore (measured here): its kerndat probe creates a
    /// network namespace (SYS_ADMIN) and the restored tree gets a time namespace whose
    /// offsets it sets (SYS_TIME), besides the three that podman's recipe names. With only
    /// those three, a restore of a trigger checkpoint fails in the probe ("Unable create a
    /// network namespace"), and the kernel feature cache does not help: it is kept per
    /// capability set, and its probe run fails the same way.
    public static let capabilities: [Capability] = [
        .checkpointRestore, .netAdmin, .sysPtrace, .sysAdmin, Capability(name: "SYS_TIME")!,
    ]

    /// ns_last_pid while the restore runs: the restoring processes take PIDs from here, below
    /// the offset every application started above, so none takes a PID the dump needs.
    public static let restorePIDOffset: UInt32 = 100

    static let criuLocations = ["usr/sbin/criu", "usr/bin/criu", "usr/local/sbin/criu", "usr/local/bin/criu", "sbin/criu", "bin/criu"]

    /// Checks that this host and image can restore `record`, grants what the restore needs
    /// and, for a trigger checkpoint, makes CRIU the container's command.
    ///
    /// - Parameters:
    ///   - layers: the image's layer directories, to look for criu in.
    /// - Returns: what was granted beyond the user's options, as lines to show.
    /// - Throws: `RunnerError.cannotRestore` with the reason when the host or image cannot.
    public static func prepare(
        _ spec: inout ContainerSpec, record: CheckpointRecord, image: String, layers: [String], host: HostProfile
    ) throws -> [String] {
        if let reason = host.refusal(toRestore: record.host) {
            throw RunnerError.cannotRestore(image: image, reason: reason)
        }
        guard let criu = findCRIU(in: layers) else {
            throw RunnerError.cannotRestore(image: image, reason: "the image has no criu (looked for /usr/sbin/criu and /usr/bin/criu)")
        }

        var granted: [String] = []
        if !spec.privileged {
            for capability in capabilities where !spec.capabilities.contains(capability) {
                spec.capabilities.insert(capability)
                granted.append(capability.description)
            }
            if !spec.lastPidWritable {
                spec.writableLastPid = true
                granted.append("a writable /proc/sys/kernel/ns_last_pid")
            }
        }
        // An image that restores itself runs its criu as its own non-root user, on the file
        // capabilities the criu binary carries. no_new_privs would make exec ignore them.
        spec.noNewPrivileges = false
        spec.pidOffset = restorePIDOffset
        // Signals reach the restored tree, and the container lasts as long as it does: a
        // restoring criu passes no signal on, and a detached one exits once the tree runs.
        spec.waitsForAllProcesses = true

        if record.method == .selfCheckpoint && Container.isRootless {
            try addUnprivilegedConfiguration(to: &spec)
        }

        if record.method == .trigger {
            spec.arguments = restoreArguments(criu: criu, record: record)
            // criu restores each process's own credentials; it has to start as root to do so.
            spec.uid = 0
            spec.gid = 0
            spec.supplementaryGroups = []
            spec.addedCapabilities = []
            spec.workingDirectory = "/"
        }
        return granted
    }

    /// Selects criu's `--unprivileged` mode for a self-checkpointing image's own criu through
    /// `CRIU_CONFIG_FILE`, because crib does not choose that criu's arguments. Without root the
    /// restore needs the mode (see `restoreArguments`). The image's script cannot know whether
    /// crib runs without root.
    static func addUnprivilegedConfiguration(to spec: inout ContainerSpec) throws {
        let file = spec.stateDirectory + "/criu.conf"
        try Data("unprivileged\n".utf8).write(to: URL(fileURLWithPath: file))
        spec.binds.append(ContainerSpec.BindMount(source: file, destination: unprivilegedConfigurationPath, readOnly: true))
        spec.environment.append("CRIU_CONFIG_FILE=" + unprivilegedConfigurationPath)
    }

    /// The path of the criu configuration that selects `--unprivileged` in a rootless restore.
    static let unprivilegedConfigurationPath = "/run/crib-criu.conf"

    /// Builds the `criu restore` of a trigger checkpoint: detached, so that the restored tree
    /// becomes init's child, and with crib run's own stdio in place of the pipes the tree had.
    static func restoreArguments(criu: String, record: CheckpointRecord) -> [String] {
        var arguments = [
            criu, "restore", "--images-dir", record.imagesDirectory, "--log-file", "restore.log",
            "--restore-detached", "--tcp-close",
        ]
        // Without root on the host, the container's capabilities count only in its user
        // namespace, while the kernel checks SO_SNDBUFFORCE and raising RLIMIT_NOFILE against
        // the initial one: criu's unprivileged mode does without both.
        if Container.isRootless { arguments.append("--unprivileged") }
        for (fd, resource) in record.stdio.enumerated() {
            arguments += ["--inherit-fd", "fd[\(fd)]:\(resource)"]
        }
        return arguments
    }

    /// Returns the path of criu in the image, or nil when it has none.
    public static func findCRIU(in layers: [String]) -> String? {
        findCRIULayer(in: layers)?.path
    }

    /// Returns the path of criu in the image and the layer directory that contains it.
    public static func findCRIULayer(in layers: [String]) -> (path: String, layer: String)? {
        for location in criuLocations {
            for layer in layers {
                var status = stat()
                if lstat(layer + "/" + location, &status) == 0 && status.st_mode & S_IFMT != S_IFDIR {
                    return ("/" + location, layer)
                }
            }
        }
        return nil
    }
}
