import OCI

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
        global.log.log(.debug, "waiting for running builds and pulls to finish")
        guard let result = try StoreCollector.collect(store, global: global, removeDangling: true, wait: true) else { return 0 }
        for image in result.blobs.removedImages {
            print(image.encoded)
        }
        global.log.log(
            .info,
            "removed \(result.blobs.removedImages.count) images, \(result.blobs.removedBlobs.count) blobs and \(result.layers.count) unpacked layers, \(Formatting.size(result.blobs.reclaimedBytes)) of blobs reclaimed")
        return 0
    }
}
