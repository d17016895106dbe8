import Foundation

/// The configuration the shim reads from its pipe: records of u32 tag, u32 length and
/// payload, in host byte order, as `enum crib_config_tag` in crib_shim.h defines them.
struct ShimConfig {
    private(set) var bytes = Data()

    enum Tag: UInt32 {
        case end = 0
        case namespaces = 1
        case userNamespace = 2
        case rootfs = 3
        case mount = 4
        case hostname = 5
        case argument = 6
        case environment = 7
        case workingDirectory = 8
        case user = 9
        case capabilities = 10
        case noNewPrivileges = 11
        case seccomp = 12
        case pidOffset = 13
        case setgroups = 14
        case rootfsFilesystem = 15
        case join = 16
        case remove = 17
        case reapAll = 18
        case chown = 19
    }

    mutating func append(_ tag: Tag, _ payload: Data) {
        appendInteger(tag.rawValue)
        appendInteger(UInt32(payload.count))
        bytes.append(payload)
    }

    mutating func append(_ tag: Tag, string: String) {
        append(tag, Data(string.utf8))
    }

    mutating func append(_ tag: Tag, number: UInt32) {
        append(tag, Self.encode(number))
    }

    mutating func append(_ tag: Tag, mount: ShimMount) {
        var payload = Data()
        payload.append(Self.encode(mount.kind.rawValue))
        payload.append(Self.encode(UInt32(0)))
        payload.append(Self.encode(mount.flags.rawValue))
        for field in [mount.source, mount.target, mount.fstype, mount.data] {
            payload.append(Data(field.utf8))
            payload.append(0)
        }
        append(tag, payload)
    }

    mutating func finish() {
        appendInteger(Tag.end.rawValue)
        appendInteger(UInt32(0))
    }

    private mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        bytes.append(Self.encode(value))
    }

    static func encode<T: FixedWidthInteger>(_ value: T) -> Data {
        withUnsafeBytes(of: value) { Data($0) }
    }
}
