import Foundation

/// crib's store as a copy destination: blobs through verifying blob writers, then the
/// manifest under the given names.
///
/// A failed copy removes the blobs it added, so the store is as it was before.
public final class StoreImageDestination: ImageDestination {
    let store: ContentStore
    let names: [String]
    public let name: String
    public let parallelBlobs = 4
    private let lock = NSLock()
    private var added: [Digest] = []
    /// The image as stored, once `putManifest` ran.
    public private(set) var image: StoredImage?

    /// - Parameter names: fully qualified names, or local names that go under `localhost/`.
    public init(store: ContentStore, names: [String]) {
        self.store = store
        self.names = names
        self.name = "the store"
    }

    public func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence {
        // Taken before the check so that a collection cannot remove the blob in between.
        try lock.withLock { try store.holdForWriting() }
        return store.hasBlob(descriptor.digest) ? .present : .missing
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws {
        let writer = try lock.withLock { try store.beginBlob() }
        do {
            try source.copyBlob(descriptor, into: writer, progress: progress)
            _ = try writer.commit(
                mediaType: descriptor.mediaType, expected: descriptor.digest, expectedSize: descriptor.size)
        } catch {
            writer.abort()
            throw error
        }
        lock.withLock { added.append(descriptor.digest) }
    }

    public func putManifest(_ manifest: ImageManifestData) throws {
        // addImage may still reject the manifest; a manifest blob this copy wrote then goes
        // with the blobs in abort.
        let isNew = !store.hasBlob(manifest.digest)
        let descriptor = try store.writeBlob(manifest.data, mediaType: manifest.mediaType)
        if isNew { lock.withLock { added.append(descriptor.digest) } }
        image = try store.addImage(descriptor, names: names)
    }

    public func abort() {
        let digests = lock.withLock { added }
        guard !digests.isEmpty else { return }
        // Another crib process that found one of these blobs present has skipped it and may
        // name it in index.json already, so they are removed only while no other process uses
        // the store. Otherwise they stay until the next collection.
        do {
            let removed = try store.withExclusiveUsage(wait: false) {
                for digest in digests { unlink(store.blobPath(digest)) }
            }
            if removed == nil {
                store.log.log(.info, "kept \(digests.count) blobs of the failed copy: another crib process is using \(store.root.path)")
            }
        } catch {
            store.log.log(.warning, "failed to remove the blobs of the failed copy: \(error)")
        }
    }
}
