import Foundation

/// The exact bytes of a manifest, which its digest covers, with its media type.
public struct ImageManifestData: Sendable {
    public let data: Data
    public let mediaType: MediaType
    public let digest: Digest
    public let manifest: Manifest

    public init(data: Data, mediaType: MediaType, source: String) throws {
        self.data = data
        self.digest = Digest.sha256(data)
        self.manifest = try CanonicalJSON.decode(Manifest.self, from: data, source: source)
        self.mediaType = manifest.mediaType ?? mediaType
        guard self.mediaType.isManifest else {
            throw OCIError.unsupportedMediaType(self.mediaType, object: "manifest of \(source)")
        }
    }

    /// The config first, then the layers: the order copies and archives use.
    public var blobs: [Descriptor] { [manifest.config] + manifest.layers }
}
