/// The metadata of one tar entry in a layer, independent of libarchive.
///
/// Paths and link targets are raw bytes because a layer may carry names that are not UTF-8.
public struct LayerEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular(size: Int64)
        case directory
        case symlink(target: [UInt8])
        /// A hardlink to an earlier entry of the same layer, named by its path in the layer.
        case hardlink(target: [UInt8])
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    /// An extended attribute as stored in the PAX header (`SCHILY.xattr.NAME`).
    public struct ExtendedAttribute: Sendable, Equatable {
        public var name: String
        public var value: [UInt8]

        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    /// The path relative to the layer root, without a leading `/` or `./`.
    public var path: [UInt8]
    public var kind: Kind
    /// Permission bits with setuid, setgid and sticky (`07777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the epoch.
    public var mtime: Int64
    public var xattrs: [ExtendedAttribute]

    public init(
        path: [UInt8], kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0,
        xattrs: [ExtendedAttribute] = []
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.xattrs = xattrs
    }

    /// The path for messages; bytes that are not UTF-8 show as U+FFFD.
    public var displayPath: String { String(decoding: path, as: UTF8.self) }
}
