import OCI

struct TagCommand: Command {
    static let name = "tag"
    static let abstract = "Give an image one or more additional names"
    static let usage = "tag IMAGE NAME [NAME...]"
    static let options: [OptionSpec] = []

    let global: GlobalOptions
    let source: String
    let targets: [String]

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 2...Int.max)
        self.global = global
        source = arguments.positionals[0]
        targets = Array(arguments.positionals.dropFirst())
        for target in targets {
            _ = try ImageReference(local: target)
        }
    }

    func run() throws -> Int32 {
        let store = try global.openStore()
        let image = try store.image(source)
        for target in targets {
            try store.tag(image, as: target)
        }
        return 0
    }
}
