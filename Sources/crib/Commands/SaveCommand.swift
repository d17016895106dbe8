import Foundation
import OCI

struct SaveCommand: Command {
    static let name = "save"
    static let abstract = "Write an image from the store to an OCI or docker archive"
    static let usage = "save [--format oci-archive|docker-archive] -o FILE IMAGE"
    static let options: [OptionSpec] = [
        .value("output", short: "o", "FILE", help: "write the archive to FILE"),
        .value("format", "FORMAT", help: "oci-archive or docker-archive (default docker-archive, as podman)"),
    ]

    let image: String
    let output: String
    let dockerFormat: Bool
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...1)
        image = arguments.positionals[0]
        guard let output = arguments.value("output"), !output.isEmpty else {
            throw UsageError("save needs -o FILE", command: Self.name)
        }
        self.output = output
        switch arguments.value("format") {
        case nil, "docker-archive": dockerFormat = true
        case "oci-archive": dockerFormat = false
        case let other?:
            throw UsageError("unsupported format \"\(other)\"; use oci-archive or docker-archive", command: Self.name)
        }
        self.global = global
    }

    func run() throws -> Int32 {
        let store = try ContentStore(root: global.root, log: global.log)
        let stored = try store.image(image)
        let source = StoreImageSource(store: store, image: stored)
        let name =
            stored.names.first { ($0 == image) || ((try? ImageReference(local: image).description) == $0) }
            ?? stored.names.first
        let destination: any ImageDestination
        if dockerFormat {
            destination = try DockerArchiveDestination(path: output, names: name.map { [$0] } ?? [])
        } else {
            destination = try OCIArchiveDestination(path: output, reference: name)
        }
        try ImageCopier(log: TerminalProgressLog.wrap(global)).copy(from: source, to: destination)
        return 0
    }
}
