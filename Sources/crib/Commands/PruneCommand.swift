import Build
import Layering
import OCI
import Runner

struct PruneCommand: Command {
    static let name = "prune"
    static let abstract = "Remove dangling images, every blob no image references and unused unpacked layers"
    static let usage = "prune"
    static let options: [OptionSpec] = []

    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        self.global = global
    }

    func run() throws -> Int32 {
        let store = try global.openStore()
        let layers = LayerCache(root: global.root, log: global.log)
        global.log.log(.debug, "waiting for running builds and pulls to finish")
        // One exclusive hold for the blobs and the unpacked layers, so that no build or pull
        // starts to use a layer between the two.
        let outcome = try store.withExclusiveUsage(wait: true) { () -> (ContentStore.CollectionResult, [Digest])? in
            // A container keeps its image, even a dangling one, and so the layers it runs on.
            let inUse = Set(try ContainerStore(root: global.root).list().compactMap(\.imageDigest))
            guard let result = try store.garbageCollect(removeDangling: true, keepingImages: inUse) else { return nil }
            let used = try store.referencedDiffIDs().union(BuildCache(root: global.root).liveDiffIDs(in: store))
            return (result, try layers.removeUnused(keeping: used))
        }
        guard let (result, removedLayers) = outcome ?? nil else { return 0 }
        for image in result.removedImages {
            print(image.encoded)
        }
        global.log.log(
            .info,
            "removed \(result.removedImages.count) images, \(result.removedBlobs.count) blobs and \(removedLayers.count) unpacked layers, \(Formatting.size(result.reclaimedBytes)) of blobs reclaimed")
        return 0
    }
}
