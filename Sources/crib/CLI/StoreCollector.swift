import Layering
import OCI
import Runner

/// The collection `prune` and `rmi` run, which removes images, then the unpacked layers and
/// blobs that no remaining image uses.
enum StoreCollector {
    /// The images, blobs and unpacked layers one collection removed.
    struct Result {
        var blobs: ContentStore.CollectionResult
        var layers: [Digest]
    }

    /// Removes `images` (and dangling images when `removeDangling`), the unpacked layers no
    /// remaining image uses, and the blobs none references. All of it happens under one
    /// exclusive hold of the store, so that no build or pull starts to use a layer or blob in between.
    ///
    /// The layers go first, while index.json still names every image. A crib killed at any
    /// point then leaves either images whose unpacked layers are missing, which a container
    /// unpacks again, or blobs no image references, which the next collection removes. Neither
    /// is a problem for `crib check`, unlike an unpacked layer that no image uses.
    ///
    /// - Parameter wait: when false, returns nil at once, removing nothing, while another crib
    ///   process is using the store.
    @discardableResult
    static func collect(
        _ store: ContentStore, global: GlobalOptions, removing images: [StoredImage] = [], removeDangling: Bool, wait: Bool
    ) throws -> Result? {
        let layers = LayerCache(root: global.root, log: global.log)
        let outcome = try store.withExclusiveUsage(wait: wait) { () -> Result? in
            // A container keeps its image, even a dangling one, and so the layers it runs on.
            let containers = ContainerStore(root: global.root)
            try containers.removeAbandoned()
            let inUse = Set(try containers.list().compactMap(\.imageDigest))

            let removed = Set(images.map(\.digest))
            let remaining = try store.images().filter { image in
                guard !removed.contains(image.digest) else { return false }
                return !removeDangling || !image.names.isEmpty || inUse.contains(image.digest)
            }
            let removedLayers = try layers.removeUnused(keeping: Set(remaining.flatMap(\.config.rootfs.diffIDs)))

            for image in images {
                try store.removeImage(image)
            }
            guard let blobs = try store.garbageCollect(removeDangling: removeDangling, keepingImages: inUse) else { return nil }
            return Result(blobs: blobs, layers: removedLayers)
        }
        return outcome ?? nil
    }
}
