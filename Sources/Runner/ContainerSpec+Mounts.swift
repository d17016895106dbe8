extension ContainerSpec {
    static let lastPidPath = "/proc/sys/kernel/ns_last_pid"

    /// Paths under /proc and /sys that leak host details or let a container reach the host's
    /// kernel; hidden as Docker hides them.
    static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    static let devices = ["null", "zero", "full", "random", "urandom", "tty"]

    /// Returns the shim's mount list, in the order it runs: file systems and devices, the files crib
    /// writes for /etc, the user's binds, and after pivot_root the masked and read-only paths.
    ///
    /// - Parameters:
    ///   - userNamespace: the container runs in a user namespace of its own (rootless).
    ///   - ttyGroupMapped: gid 5 exists in the container, so devpts can give it the ptys.
    func shimMounts(userNamespace: Bool, ttyGroupMapped: Bool) -> [ShimMount] {
        let hidden: MountFlags = [.noSuid, .noDev, .noExec]
        var mounts: [ShimMount] = [
            ShimMount(kind: .filesystem, source: "proc", target: "/proc", fstype: "proc", flags: hidden),
            ShimMount(
                kind: .filesystem, source: "tmpfs", target: "/dev", fstype: "tmpfs", flags: [.noSuid, .strictAtime],
                data: "mode=755,size=65536k"),
            ShimMount(
                kind: .filesystem, source: "devpts", target: "/dev/pts", fstype: "devpts", flags: [.noSuid, .noExec],
                data: "newinstance,ptmxmode=0666,mode=0620" + (ttyGroupMapped ? ",gid=5" : "")),
            ShimMount(
                kind: .filesystem, source: "shm", target: "/dev/shm", fstype: "tmpfs", flags: hidden,
                data: "mode=1777,size=65536k"),
            ShimMount(kind: .filesystem, source: "mqueue", target: "/dev/mqueue", fstype: "mqueue", flags: hidden),
        ]

        // NOTE: no cgroup namespace and nothing at /sys/fs/cgroup, so a container has no
        // resource limits and no cgroup of its own.
        // sysfs shows the network devices of the mounting namespace, and the kernel refuses it
        // to a user namespace that does not own the network namespace: rootless with the
        // host's network gets the host's /sys bound instead.
        if userNamespace && network == .host {
            mounts.append(
                ShimMount(kind: .bind, source: "/sys", target: "/sys", flags: privileged ? [] : [.readOnly]))
        } else {
            mounts.append(
                ShimMount(
                    kind: .filesystem, source: "sysfs", target: "/sys", fstype: "sysfs",
                    flags: privileged ? hidden : hidden.union(.readOnly)))
        }

        // NOTE: --privileged grants capabilities but not the host's other devices, so /dev has
        // the same nodes as for any container.
        for device in Self.devices {
            mounts.append(ShimMount(kind: .device, source: "/dev/" + device, target: "/dev/" + device))
        }
        let links = [
            ("pts/ptmx", "/dev/ptmx"), ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
        ]
        for (destination, link) in links {
            mounts.append(ShimMount(kind: .symlink, source: destination, target: link))
        }

        for name in ["hosts", "hostname", "resolv.conf"] {
            mounts.append(ShimMount(kind: .bind, source: stateDirectory + "/" + name, target: "/etc/" + name))
        }
        for bind in binds where !Self.isLastPidBind(bind) {
            mounts.append(
                ShimMount(
                    kind: .bind, source: bind.source, target: bind.destination, flags: bind.readOnly ? [.readOnly] : [])
            )
        }
        for mount in self.mounts {
            mounts.append(Self.shimMount(mount, userNamespace: userNamespace))
        }

        if !privileged {
            mounts += Self.maskedPaths.map { ShimMount(kind: .mask, target: $0) }
            mounts += Self.readOnlyPaths.map { ShimMount(kind: .readOnly, target: $0) }
            if lastPidWritable {
                mounts.append(ShimMount(kind: .writable, target: Self.lastPidPath))
            }
        }
        return mounts
    }

    static func shimMount(_ mount: Mount, userNamespace: Bool) -> ShimMount {
        let readOnly: MountFlags = mount.readOnly ? [.readOnly] : []
        switch mount.kind {
        case .bind(let source):
            return ShimMount(kind: .bind, source: source, target: mount.destination, flags: readOnly)
        case .tmpfs(let options):
            return ShimMount(
                kind: .filesystem, source: "tmpfs", target: mount.destination, fstype: "tmpfs",
                flags: readOnly.union([.noSuid, .noDev]), data: options)
        case .overlay(let lower, let upper, let work):
            var data = "lowerdir=" + Container.escapeOverlayPath(lower) + ",upperdir=" + Container.escapeOverlayPath(upper)
                + ",workdir=" + Container.escapeOverlayPath(work)
            // In a user namespace overlayfs may only use user.* xattrs for its own bookkeeping.
            if userNamespace { data += ",userxattr" }
            return ShimMount(kind: .filesystem, source: "overlay", target: mount.destination, fstype: "overlay", flags: readOnly, data: data)
        }
    }

    /// The paths inside the rootfs where the container's mounts go: the file systems, the
    /// files crib writes for /etc, the binds and `mounts`. The shim creates each one that is
    /// missing, as an empty directory or file, so a caller that keeps what the container
    /// wrote can tell them apart from the command's own changes.
    public var mountTargets: [String] {
        shimMounts(userNamespace: false, ttyGroupMapped: true).compactMap { mount in
            mount.kind == .filesystem || mount.kind == .bind ? mount.target : nil
        }
    }

    /// `-v /proc/sys/kernel/ns_last_pid:/proc/sys/kernel/ns_last_pid`, podman's way to ask for a
    /// writable ns_last_pid. The file acts on the writer's PID namespace, so binding the
    /// host's copy and exposing the container's own are the same thing.
    static func isLastPidBind(_ bind: BindMount) -> Bool {
        bind.source == lastPidPath && bind.destination == lastPidPath && !bind.readOnly
    }
}
