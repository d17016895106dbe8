import OCI

struct PruneCommand: Command {
    static let name = "prune"
    static let abstract = "Remove dangling images and every blob no image references"
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
        guard let result = try store.garbageCollect(removeDangling: true) else { return 0 }
        for image in result.removedImages {
            print(image.encoded)
        }
        global.log.log(.info, "removed \(result.removedImages.count) images and \(result.removedBlobs.count) blobs, \(Formatting.size(result.reclaimedBytes)) reclaimed")
        return 0
    }
}
