/// The result of `ContentStore.check`: one problem per damaged object, each marked when a repair removed it.
public struct StoreCheckReport: Sendable {
    /// One object that cannot be trusted, named by path, digest or image name.
    public struct Problem: Sendable, Encodable, CustomStringConvertible {
        public enum Kind: String, Sendable, Encodable {
            case corruptBlob = "corrupt blob"
            case strayFile = "stray file"
            case unreadableIndex = "unreadable index"
            case damagedImage = "damaged image"
            case unusedLayer = "unused layer"
            case strayLayer = "stray layer entry"
        }

        public var kind: Kind
        /// The digest, path or image name of the object.
        public var object: String
        /// The fault, such as `content hashes to sha256:…`.
        public var detail: String
        /// Whether a repair removed the object.
        public var removed = false

        public init(kind: Kind, object: String, detail: String, removed: Bool = false) {
            self.kind = kind
            self.object = object
            self.detail = detail
            self.removed = removed
        }

        public var description: String {
            "\(kind.rawValue) \(object): \(detail)" + (removed ? " (removed)" : "")
        }
    }

    public var problems: [Problem] = []
    /// Blob files hashed, and their total size.
    public var checkedBlobs = 0
    public var checkedBytes: Int64 = 0
    /// Distinct manifests that index.json lists.
    public var checkedImages = 0
    /// The layer diffIDs of every image left in the index, for checking the unpacked-layer cache.
    public var referencedDiffIDs: Set<Digest> = []
    /// False when index.json could not be read, so that no layer is known to be in use.
    public var indexIsReadable = true

    public init() {}

    public var isSound: Bool { problems.isEmpty }
}
