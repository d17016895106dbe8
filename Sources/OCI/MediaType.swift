/// A media type of the OCI image spec ("Media Types") or of Docker's image manifest v2 schema 2.
public struct MediaType: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    // MARK: - OCI

    public static let ociLayout = MediaType("application/vnd.oci.layout.header.v1+json")
    public static let ociIndex = MediaType("application/vnd.oci.image.index.v1+json")
    public static let ociManifest = MediaType("application/vnd.oci.image.manifest.v1+json")
    public static let ociConfig = MediaType("application/vnd.oci.image.config.v1+json")
    public static let ociLayer = MediaType("application/vnd.oci.image.layer.v1.tar")
    public static let ociLayerGzip = MediaType("application/vnd.oci.image.layer.v1.tar+gzip")
    public static let ociLayerZstd = MediaType("application/vnd.oci.image.layer.v1.tar+zstd")
    public static let ociEmpty = MediaType("application/vnd.oci.empty.v1+json")

    // MARK: - Docker schema 2

    public static let dockerManifestList = MediaType("application/vnd.docker.distribution.manifest.list.v2+json")
    public static let dockerManifest = MediaType("application/vnd.docker.distribution.manifest.v2+json")
    public static let dockerConfig = MediaType("application/vnd.docker.container.image.v1+json")
    public static let dockerLayer = MediaType("application/vnd.docker.image.rootfs.diff.tar")
    public static let dockerLayerGzip = MediaType("application/vnd.docker.image.rootfs.diff.tar.gzip")
    public static let dockerForeignLayerGzip = MediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")

    /// Whether this is an image manifest (OCI or Docker), not an index.
    public var isManifest: Bool { self == .ociManifest || self == .dockerManifest }

    /// Whether this is an index or a Docker manifest list.
    public var isIndex: Bool { self == .ociIndex || self == .dockerManifestList }

    /// Whether this is a layer media type crib can unpack.
    public var isLayer: Bool { layerCompression != nil }

    /// The compression of a layer of this media type, or nil when it is not a layer.
    public var layerCompression: LayerCompression? {
        switch self {
        case .ociLayer, .dockerLayer: return LayerCompression.none
        case .ociLayerGzip, .dockerLayerGzip, .dockerForeignLayerGzip: return .gzip
        case .ociLayerZstd: return .zstd
        default: return nil
        }
    }
}

/// How a layer's tar stream is compressed.
public enum LayerCompression: String, Sendable, CaseIterable {
    case none
    case gzip
    case zstd

    /// The OCI layer media type for this compression.
    public var ociMediaType: MediaType {
        switch self {
        case .none: return .ociLayer
        case .gzip: return .ociLayerGzip
        case .zstd: return .ociLayerZstd
        }
    }
}
