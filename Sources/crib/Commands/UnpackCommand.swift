import Foundation
import Layering
import OCI

struct UnpackCommand: Command {
    static let name = "unpack"
    static let abstract = "Apply every layer of an image to a directory as one plain tree"
    static let usage = "unpack IMAGE DIRECTORY"
    static let options: [OptionSpec] = []

    let image: String
    let directory: String
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 2...2)
        image = arguments.positionals[0]
        directory = arguments.positionals[1]
        self.global = global
    }

    func run() throws -> Int32 {
        let store = try ContentStore(root: global.root, log: global.log)
        let stored = try store.image(image)
        guard stored.manifest.layers.count == stored.config.rootfs.diffIDs.count else {
            throw OCIError.malformedJSON(
                path: "config \(stored.id)",
                underlying: "\(stored.manifest.layers.count) layers but \(stored.config.rootfs.diffIDs.count) diffIDs")
        }
        let created = mkdir(directory, 0o755) == 0
        if !created && errno != EEXIST { throw SystemError("create directory", path: directory) }

        do {
            let unpacker = try LayerUnpacker(root: directory, log: global.log)
            for (layer, diffID) in zip(stored.manifest.layers, stored.config.rootfs.diffIDs) {
                let report = try unpacker.apply(try store.openBlob(layer), name: layer.digest.description, expectedDiffID: diffID)
                for warning in report.warnings { global.log.log(.warning, warning) }
                global.log.log(.debug, "applied layer \(layer.digest) (\(report.entries) entries)")
            }
        } catch {
            // A tree that stopped halfway is not the image, so crib removes it when crib made the
            // directory. A directory the user gave that already existed is left to the user.
            if created { removeTree(directory) }
            throw error
        }
        return 0
    }

    private func removeTree(_ path: String) {
        do {
            try FileTree.remove(path)
        } catch {
            global.log.log(.warning, "failed to remove the partly unpacked \(path): \(error)")
        }
    }
}
