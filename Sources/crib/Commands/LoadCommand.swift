import Foundation
import OCI

struct LoadCommand: Command {
    static let name = "load"
    static let abstract = "Load the images of an OCI or docker archive (optionally gzip-compressed) into the store"
    static let usage = "load -i FILE"
    static let options: [OptionSpec] = [
        .value("input", short: "i", "FILE", help: "read the archive from FILE")
    ]

    let input: String
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        guard let input = arguments.value("input"), !input.isEmpty else {
            throw UsageError("load needs -i FILE", command: Self.name)
        }
        self.input = input
        self.global = global
    }

    func run() throws -> Int32 {
        let store = try ContentStore(root: global.root, log: global.log)
        // The archive is unpacked into tmp/, which only a holder of the store may use.
        try store.holdForWriting()
        let images = try ArchiveLoader(store: store, log: TerminalProgressLog.wrap(global)).load(path: input)
        for image in images {
            print("Loaded image: \(image.names.first ?? image.id.description)")
        }
        return 0
    }
}
