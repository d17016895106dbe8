/// A copy destination: a registry repository, an image layout, an archive or the store.
public protocol ImageDestination: AnyObject {
    var name: String { get }

    /// Blobs copied at the same time; archives take one at a time because a tar is sequential.
    var parallelBlobs: Int { get }

    /// Checks whether the destination has the blob already, so the copy skips it. A registry
    /// may link it from another repository instead and report `.mounted`.
    func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence

    /// Copies one blob from `source`.
    func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws

    /// Stores the manifest once every blob is in; the destination is complete after this.
    func putManifest(_ manifest: ImageManifestData) throws

    /// Drops whatever a failed copy left behind.
    func abort()
}
