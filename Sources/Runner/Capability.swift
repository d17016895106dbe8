import Foundation

/// A Linux capability by its kernel number, named as in capabilities(7) without `CAP_`.
public struct Capability: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let number: Int

    static let names = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ]

    public init(number: Int) {
        self.number = number
    }

    /// Parses `NET_ADMIN`, `CAP_NET_ADMIN` or `net_admin`; nil for an unknown name.
    public init?(name: String) {
        var upper = name.uppercased()
        if upper.hasPrefix("CAP_") { upper.removeFirst(4) }
        guard let number = Self.names.firstIndex(of: upper) else { return nil }
        self.number = number
    }

    public var name: String { number < Self.names.count ? Self.names[number] : "\(number)" }
    public var description: String { "CAP_" + name }

    public static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.number < rhs.number }

    public static let checkpointRestore = Capability(number: 40)
    public static let sysAdmin = Capability(number: 21)
    public static let sysPtrace = Capability(number: 19)
    public static let netAdmin = Capability(number: 12)

    /// The set Docker and podman grant a container by default.
    public static let defaultSet: Set<Capability> = Set(
        [
            "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
            "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
        ].compactMap { Capability(name: $0) })

    /// Returns crib's own bounding set, which no container can exceed: a host that withholds
    /// CAP_SYS_RESOURCE from crib withholds it from every container.
    public static func all() -> Set<Capability> {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        let mask = line.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        return Set((0..<64).filter { mask & (1 << UInt64($0)) != 0 }.map { Capability(number: $0) })
    }

    /// Returns the set as the kernel's bit mask.
    public static func mask(_ set: Set<Capability>) -> UInt64 {
        set.reduce(0) { $0 | (1 << UInt64($1.number)) }
    }
}
