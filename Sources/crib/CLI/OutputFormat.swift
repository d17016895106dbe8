/// The `--format` option shared by listing and inspecting commands.
enum OutputFormat {
    case table
    case json

    static let spec = OptionSpec.value("format", "FORMAT", help: "print as json instead of a table")

    init(_ arguments: ParsedArguments, command: String) throws {
        switch arguments.value("format") {
        case nil, "table": self = .table
        case "json": self = .json
        case let other?: throw UsageError("unsupported format \"\(other)\"; use json or table", command: command)
        }
    }
}
