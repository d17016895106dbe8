import Foundation

/// A copy source: a registry, an image layout, an archive or the store.
public protocol ImageSource: AnyObject {
    /// The transport reference, for messages.
    var name: String { get }

    /// Returns the image manifest to copy, resolving an index to the manifest for `platform`.
    func manifest(for platform: Platform) throws -> ImageManifestData

    /// Streams a blob into `sink`. The sink checks the digest (the store's blob writer and
    /// the copier do), so sources need not.
    func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws

    /// Returns a local file with the blob, when there is one, so that uploads need no staging copy.
    func localPath(of descriptor: Descriptor) -> String?
}
