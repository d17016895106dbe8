import Runner

struct RmCommand: Command {
    static let name = "rm"
    static let abstract = "Remove containers"
    static let usage = "rm [--force] CONTAINER..."
    static let options: [OptionSpec] = [
        .flag("force", short: "f", help: "kill a running container before removing it")
    ]

    let names: [String]
    let force: Bool
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...Int.max)
        names = arguments.positionals
        force = arguments.flag("force")
        self.global = global
    }

    func run() throws -> Int32 {
        let store = ContainerStore(root: global.root)
        // Every name is tried, as podman does; the first failure decides the exit status.
        var firstError: (any Error)?
        for name in names {
            do {
                let record = try store.find(name)
                try store.remove(record, force: force)
                print(record.id)
            } catch {
                if firstError == nil { firstError = error } else { global.log.log(.warning, "\(error)") }
            }
        }
        if let firstError { throw firstError }
        return 0
    }
}
