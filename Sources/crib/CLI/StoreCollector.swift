import Build
import Layering
import OCI
import Runner

/// The collection `prune` and `rmi` run once images are gone, which removes blobs no image
/// references and unpacked layers no image or build cache entry uses.
enum StoreCollector {
    /// The images, blobs and unpacked layers one collection removed.
    struct Result {
        var blobs: ContentStore.CollectionResult
        var layers: [Digest]
    }

    /// Collects under one exclusive hold of the store, so that no build or pull starts to use
    /// a layer between the blob collection and the layer removal.
    ///
    /// - Parameter wait: when false, returns nil at once while another crib process is using the store.
    @discardableResult
    static func collect(_ store: ContentStore, global: GlobalOptions, removeDangling: Bool, wait: Bool) throws -> Result? {
        let layers = LayerCache(root: global.root, log: global.log)
        let outcome = try store.withExclusiveUsage(wait: wait) { () -> Result? in
            // A container keeps its image, even a dangling one, and so the layers it runs on.
            let containers = ContainerStore(root: global.root)
            try containers.removeAbandoned()
            let inUse = Set(try containers.list().compactMap(\.imageDigest))
            guard let blobs = try store.garbageCollect(removeDangling: removeDangling, keepingImages: inUse) else { return nil }
            let used = try store.referencedDiffIDs().union(BuildCache(root: global.root).liveDiffIDs(in: store))
            return Result(blobs: blobs, layers: try layers.removeUnused(keeping: used))
        }
        return outcome ?? nil
    }
}
