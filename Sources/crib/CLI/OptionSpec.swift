/// One option a command accepts, declared once and used both to parse and to print help.
struct OptionSpec: Sendable {
    enum Kind: Sendable {
        /// Takes no value: `--rm`.
        case flag
        /// Takes one value; given twice, the last one wins: `--name N`.
        case value
        /// Takes a value and may be repeated: `-e K=V -e K2=V2`.
        case repeated
    }

    let long: String
    let short: Character?
    let kind: Kind
    let valueName: String
    let help: String

    static func flag(_ long: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .flag, valueName: "", help: help)
    }

    static func value(_ long: String, short: Character? = nil, _ valueName: String, help: String) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .value, valueName: valueName, help: help)
    }

    static func repeated(_ long: String, short: Character? = nil, _ valueName: String, help: String) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .repeated, valueName: valueName, help: help)
    }

    /// `-e, --env K=V` as help prints it.
    var synopsis: String {
        var text = short.map { "-\($0), " } ?? "    "
        text += "--\(long)"
        if kind != .flag { text += " \(valueName)" }
        return text
    }
}
