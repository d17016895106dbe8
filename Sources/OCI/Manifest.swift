/// An image manifest ("Image Manifest" in the OCI image spec; Docker schema 2 has the same shape).
public struct Manifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil, mediaType: MediaType = .ociManifest) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index ("Image Index" in the OCI image spec) or a Docker manifest list.
public struct Index: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil, mediaType: MediaType? = .ociIndex) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The manifest for `platform`, or nil when the index has none.
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { descriptor in
            guard descriptor.mediaType.isManifest, let candidate = descriptor.platform else { return false }
            return candidate.matches(platform)
        }
    }
}
