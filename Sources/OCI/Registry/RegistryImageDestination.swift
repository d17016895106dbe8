import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A repository in a registry (`docker://`), as a copy destination: HEAD skips blobs the
/// repository has, a cross-repository mount links blobs that another repository on the same
/// registry has, and everything else is uploaded.
public final class RegistryImageDestination: ImageDestination {
    public let client: RegistryClient
    public let reference: ImageReference
    /// Repositories on the same registry known to hold each blob, such as the one a base
    /// image was pulled from.
    let mountSources: [Digest: [String]]
    /// Where blobs from sources without local files are staged before their upload.
    let stagingDirectory: String
    private let lock = NSLock()
    /// Upload sessions a refused mount opened, to be used for the upload itself.
    private var openUploads: [Digest: URL] = [:]

    public var name: String { "docker://\(reference)" }
    public var parallelBlobs: Int { client.configuration.parallelBlobs }

    public init(
        client: RegistryClient, reference: ImageReference, mountSources: [Digest: [String]] = [:],
        stagingDirectory: String
    ) {
        self.client = client
        self.reference = reference
        self.mountSources = mountSources
        self.stagingDirectory = stagingDirectory
    }

    /// Every repository on `registry` that names an image in the store holding each blob.
    public static func mountSources(in store: ContentStore, registry: String) -> [Digest: [String]] {
        var sources = [Digest: [String]]()
        for image in (try? store.images()) ?? [] {
            for name in image.names {
                guard let parsed = try? ImageReference(parsing: name), parsed.domain == registry else { continue }
                for blob in [image.manifest.config] + image.manifest.layers
                where !(sources[blob.digest]?.contains(parsed.path) ?? false) {
                    sources[blob.digest, default: []].append(parsed.path)
                }
            }
        }
        return sources
    }

    public func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence {
        if try client.blobExists(repository: reference.path, digest: descriptor.digest) { return .present }
        for source in mountSources[descriptor.digest] ?? [] where source != reference.path {
            if let location = try client.mountBlob(repository: reference.path, digest: descriptor.digest, from: source)
            {
                // The registry opened a plain upload instead; the push continues on it.
                lock.withLock { openUploads[descriptor.digest] = location }
                break
            }
            return .mounted(from: source)
        }
        return .missing
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws {
        let location = lock.withLock { openUploads.removeValue(forKey: descriptor.digest) }
        if let path = source.localPath(of: descriptor) {
            try client.uploadBlob(
                repository: reference.path, digest: descriptor.digest, size: descriptor.size, path: path,
                location: location, progress: progress)
            DurableStep.completed("upload of blob \(descriptor.digest) to \(name)")
            return
        }

        // A source without files (another registry, an archive) is staged on disk and checked
        // first, because an upload may need to start over and must send what the digest names.
        let staging = try FileSink(temporaryIn: stagingDirectory, prefix: "upload-")
        defer { unlink(staging.path) }
        let hashing = HashingSink(staging)
        try source.copyBlob(descriptor, into: hashing, progress: nil)
        try hashing.verify(descriptor, object: "blob \(descriptor.digest) from \(source.name)")
        try client.uploadBlob(
            repository: reference.path, digest: descriptor.digest, size: descriptor.size, path: staging.path,
            location: location, progress: progress)
        DurableStep.completed("upload of blob \(descriptor.digest) to \(name)")
    }

    public func putManifest(_ manifest: ImageManifestData) throws {
        let tagOrDigest = reference.tag ?? manifest.digest.description
        if let digest = reference.digest, digest != manifest.digest {
            throw OCIError.digestMismatch(object: "manifest for \(name)", expected: digest, actual: manifest.digest)
        }
        try client.putManifest(
            repository: reference.path, reference: tagOrDigest, data: manifest.data,
            mediaType: manifest.mediaType.rawValue)
        DurableStep.completed("upload of manifest \(manifest.digest) to \(name)")
    }

    public func abort() {
        // Registries expire unfinished uploads on their own; nothing was tagged yet.
    }
}
