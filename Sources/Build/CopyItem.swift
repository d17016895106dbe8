/// One file system object that a COPY or ADD puts into the image.
public struct CopyItem: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case directory
        case regularFile(size: Int64)
        case symlink(target: String)
    }

    /// The absolute host path the item is read from.
    public let sourcePath: String
    /// The absolute, cleaned path in the image.
    public let destination: String
    public let kind: Kind
    /// Permission bits of the source, setuid, setgid and sticky included.
    public let mode: UInt32
    /// Modification time of the source in seconds since the epoch.
    public let mtime: Int64
    /// The source's identity when it was selected, for the file digest cache.
    public let identity: FileIdentity?

    /// Returns the same item, written at `destination` instead.
    func placed(at destination: String) -> CopyItem {
        CopyItem(sourcePath: sourcePath, destination: destination, kind: kind, mode: mode, mtime: mtime, identity: identity)
    }

    public init(sourcePath: String, destination: String, kind: Kind, mode: UInt32, mtime: Int64, identity: FileIdentity? = nil) {
        self.sourcePath = sourcePath
        self.destination = destination
        self.kind = kind
        self.mode = mode
        self.mtime = mtime
        self.identity = identity
    }
}
