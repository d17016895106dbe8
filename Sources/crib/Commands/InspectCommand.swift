import Foundation
import OCI

struct InspectCommand: Command {
    static let name = "inspect"
    static let abstract = "Print an image's manifest digest, config and layers as JSON"
    static let usage = "inspect [--checkpoint] IMAGE [IMAGE...]"
    static let options: [OptionSpec] = [
        .flag("checkpoint", help: "show a checkpoint image's processes, sizes, CRIU version and host requirements")
    ]

    let global: GlobalOptions
    let names: [String]

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...Int.max)
        self.global = global
        names = arguments.positionals
        checkpoint = arguments.flag("checkpoint")
    }

    let checkpoint: Bool

    /// The keys follow `podman image inspect` where they overlap.
    struct ImageReport: Encodable {
        let Id: String
        let Digest: String
        let RepoTags: [String]
        let Created: String?
        let Author: String?
        let Architecture: String
        let Os: String
        let Variant: String?
        let Size: Int64
        let Config: ContainerConfig?
        let RootFS: RootFS
        let History: [History]?
        let Annotations: [String: String]?
        let ManifestType: String
        let Layers: [Descriptor]
    }

    func run() throws -> Int32 {
        let store = try global.openStoreForReading()
        if checkpoint {
            for name in names { try printCheckpoint(name, store: store) }
            return 0
        }
        var reports = [ImageReport]()
        for name in names {
            let image = try store.image(name)
            reports.append(
                ImageReport(
                    Id: image.id.encoded, Digest: image.digest.description, RepoTags: image.names,
                    Created: image.config.created, Author: image.config.author, Architecture: image.config.architecture,
                    Os: image.config.os, Variant: image.config.variant, Size: image.size, Config: image.config.config,
                    RootFS: image.config.rootfs, History: image.config.history, Annotations: image.manifest.annotations,
                    ManifestType: (image.manifest.mediaType ?? image.manifestDescriptor.mediaType).rawValue,
                    Layers: image.manifest.layers))
        }
        try Formatting.printJSON(reports)
        return 0
    }
}
