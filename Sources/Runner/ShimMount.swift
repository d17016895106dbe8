/// One entry of the shim's mount list; the kinds match `enum crib_mount_kind` in crib_shim.h.
struct ShimMount: Equatable {
    enum Kind: UInt32 {
        case filesystem = 1
        case bind = 2
        case device = 3
        case symlink = 4
        case mask = 5
        case readOnly = 6
        case writable = 7
    }

    var kind: Kind
    var source = ""
    var target: String
    var fstype = ""
    var flags: MountFlags = []
    var data = ""
}

/// mount(2) flags; Glibc's MS_* constants are not all importable.
struct MountFlags: OptionSet, Equatable {
    let rawValue: UInt64
    static let readOnly = MountFlags(rawValue: 1)
    static let noSuid = MountFlags(rawValue: 2)
    static let noDev = MountFlags(rawValue: 4)
    static let noExec = MountFlags(rawValue: 8)
    static let bind = MountFlags(rawValue: 4096)
    static let recursive = MountFlags(rawValue: 16384)
    static let strictAtime = MountFlags(rawValue: 1 << 24)
}
