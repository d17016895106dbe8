import OCI

/// One crib command: its metadata, its options, and how it runs.
///
/// `init(arguments:global:)` validates what the user typed and throws `UsageError` before
/// anything is touched; `run()` does the work and returns the exit status.
protocol Command {
    /// The word after `crib`.
    static var name: String { get }
    /// One line for `crib --help`.
    static var abstract: String { get }
    /// The synopsis after `crib`, such as `tag SOURCE TARGET`.
    static var usage: String { get }
    static var options: [OptionSpec] { get }
    /// Whether the first positional ends option parsing (`run IMAGE COMMAND…`).
    static var stopsAtFirstPositional: Bool { get }

    init(arguments: ParsedArguments, global: GlobalOptions) throws
    func run() throws -> Int32
}

extension Command {
    static var stopsAtFirstPositional: Bool { false }

    static func help() -> String {
        var text = "\(abstract)\n\nUsage: crib \(usage)\n"
        let all = options + GlobalOptions.specs
        if !all.isEmpty {
            text += "\nOptions:\n"
            let width = all.map { $0.synopsis.count }.max() ?? 0
            for spec in all {
                let padding = String(repeating: " ", count: width - spec.synopsis.count + 2)
                text += "  \(spec.synopsis)\(padding)\(spec.help)\n"
            }
        }
        return text
    }

    /// Throws unless the number of positionals is within `range`.
    static func expectPositionals(_ arguments: ParsedArguments, _ range: ClosedRange<Int>) throws {
        let count = arguments.positionals.count
        guard range.contains(count) else {
            let expected: String
            if range.upperBound == Int.max {
                expected = "at least \(range.lowerBound)"
            } else if range.lowerBound == range.upperBound {
                expected = "\(range.lowerBound)"
            } else {
                expected = "\(range.lowerBound) to \(range.upperBound)"
            }
            let singular = range.upperBound == 1 || (range.upperBound == Int.max && range.lowerBound == 1)
            let noun = singular ? "argument" : "arguments"
            throw UsageError("\(name) takes \(expected) \(noun), got \(count); usage: crib \(usage)", command: name)
        }
    }
}
