import Foundation

extension ContentStore {
    /// Names an image whose manifest blob, config and layers are in the store already, keeping
    /// the manifest's bytes and digest as they came from a registry or an archive.
    ///
    /// A name that pointed at another image moves; that image stays in the index without a
    /// name, as `commitImage` leaves it.
    @discardableResult
    public func addImage(_ descriptor: Descriptor, names: [String]) throws -> StoredImage {
        try holdForWriting()
        let qualified = try names.map { try ImageReference(local: $0).description }
        let image = try load(
            IndexedImage(
                descriptor: Descriptor(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size),
                names: qualified))
        guard image.manifest.layers.count == image.config.rootfs.diffIDs.count else {
            throw OCIError.invalidContent(
                object: "manifest \(descriptor.digest)",
                reason: "it lists \(image.manifest.layers.count) layers but its config has \(image.config.rootfs.diffIDs.count) diffIDs")
        }
        // A layer that was in the store already was not copied, so its size was never checked
        // against this manifest. A wrong size would make every later push or check fail.
        for layer in image.manifest.layers {
            var status = stat()
            guard stat(blobPath(layer.digest), &status) == 0 else { throw OCIError.blobNotFound(layer.digest) }
            guard Int64(status.st_size) == layer.size else {
                throw OCIError.sizeMismatch(object: "blob \(layer.digest)", expected: layer.size, actual: Int64(status.st_size))
            }
        }

        try withIndexLock {
            var index = try readIndex()
            var orphaned = [Descriptor]()
            for name in qualified {
                if let position = index.manifests.firstIndex(where: { $0.annotations?[AnnotationKey.refName] == name })
                {
                    let previous = index.manifests.remove(at: position)
                    if previous.digest != descriptor.digest { orphaned.append(previous) }
                }
            }
            if !qualified.isEmpty {
                index.manifests.removeAll {
                    $0.digest == descriptor.digest && $0.annotations?[AnnotationKey.refName] == nil
                }
            }
            var entry = Descriptor(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size)
            if qualified.isEmpty {
                if !index.manifests.contains(where: { $0.digest == descriptor.digest }) {
                    index.manifests.append(entry)
                }
            }
            for name in qualified {
                entry.annotations = [AnnotationKey.refName: name]
                index.manifests.append(entry)
            }
            for var previous in orphaned where !index.manifests.contains(where: { $0.digest == previous.digest }) {
                previous.annotations = nil
                index.manifests.append(previous)
            }
            try writeIndex(index)
        }
        return image
    }
}
