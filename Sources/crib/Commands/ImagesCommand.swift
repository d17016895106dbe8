import Foundation
import OCI

struct ImagesCommand: Command {
    static let name = "images"
    static let abstract = "List the images in the store"
    static let usage = "images [-q] [--format json] [--no-trunc] [--digests]"
    static let options: [OptionSpec] = [
        OutputFormat.spec,
        .flag("no-trunc", help: "print full image ids"),
        .flag("digests", help: "add a column with each image's manifest digest"),
    ]

    let global: GlobalOptions
    let format: OutputFormat
    let fullIDs: Bool
    let showDigests: Bool

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        self.global = global
        format = try OutputFormat(arguments, command: Self.name)
        fullIDs = arguments.flag("no-trunc")
        showDigests = arguments.flag("digests")
    }

    /// One image as `--format json` prints it; the keys are podman's.
    struct Row: Encodable {
        let Id: String
        let Names: [String]
        let Digest: String
        let Created: String?
        let Size: Int64
        let Dangling: Bool
    }

    func run() throws -> Int32 {
        let images = try global.openStoreForReading().images()
        switch format {
        case .json:
            try Formatting.printJSON(images.map { image in
                Row(
                    Id: image.id.encoded, Names: image.names, Digest: image.digest.description, Created: image.config.created,
                    Size: image.size, Dangling: image.names.isEmpty)
            })
        case .table where global.quiet:
            // As `podman images -q`: each image id once, for scripts such as `crib rmi $(crib images -q)`.
            var printed = Set<String>()
            for image in images {
                let id = fullIDs ? image.id.description : image.id.shortID
                if printed.insert(id).inserted { print(id) }
            }
        case .table:
            var rows = [[String]]()
            for image in images {
                let id = fullIDs ? image.id.description : image.id.shortID
                let created = image.config.created.flatMap(Timestamp.parse).map { Formatting.relative($0) } ?? ""
                let size = Formatting.size(image.size)
                let digest = showDigests ? [image.digest.description] : []
                if image.names.isEmpty {
                    rows.append(["<none>", "<none>"] + digest + [id, created, size])
                }
                for name in image.names {
                    let reference = try? ImageReference(parsing: name)
                    rows.append([reference?.repository ?? name, reference?.tag ?? "<none>"] + digest + [id, created, size])
                }
            }
            let header = ["REPOSITORY", "TAG"] + (showDigests ? ["DIGEST"] : []) + ["IMAGE ID", "CREATED", "SIZE"]
            print(Formatting.table(header, rows))
        }
        return 0
    }
}
