import Foundation

/// Where a copy reads an image from: a registry, an image layout, an archive or the store.
public protocol ImageSource: AnyObject {
    /// The transport reference, for messages.
    var name: String { get }

    /// The image manifest to copy, resolving an index to the manifest for `platform`.
    func manifest(for platform: Platform) throws -> ImageManifestData

    /// Streams a blob into `sink`. The sink checks the digest (the store's blob writer and
    /// the copier do), so sources need not.
    func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws

    /// A local file holding the blob, when there is one, so that uploads need no staging copy.
    func localPath(of descriptor: Descriptor) -> String?
}

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
