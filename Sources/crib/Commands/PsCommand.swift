import Foundation
import Runner

struct PsCommand: Command {
    static let name = "ps"
    static let abstract = "List containers"
    static let usage = "ps [--all] [--format json]"
    static let options: [OptionSpec] = [
        .flag("all", short: "a", help: "list exited containers too"),
        .value("format", "FORMAT", help: "print as json instead of a table"),
    ]

    let all: Bool
    let json: Bool
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        all = arguments.flag("all")
        switch arguments.value("format") {
        case nil: json = false
        case "json": json = true
        case let other?: throw UsageError("unsupported format \"\(other)\"; use json", command: Self.name)
        }
        self.global = global
    }

    func run() throws -> Int32 {
        let containers = ContainerStore(root: global.root)
        for record in try containers.removeAbandoned() {
            global.log.log(.info, "removed container \(record.name), left by a crib process that was killed")
        }
        let records = try containers.list().filter { all || $0.isRunning }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(records), as: UTF8.self))
            return 0
        }
        var rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for record in records {
            let status: String
            if record.isRunning {
                status = "Up"
            } else if let code = record.exitCode {
                status = "Exited (\(code))"
            } else if record.state == .running {
                // The crib that ran it was killed, and the container died with it, so no exit
                // status was recorded.
                status = "Exited"
            } else {
                status = "Created"
            }
            let command = record.command.joined(separator: " ")
            rows.append([
                String(record.id.prefix(12)), record.image,
                command.count > 30 ? String(command.prefix(27)) + "..." : command,
                record.created, status, record.ports.joined(separator: ", "), record.name,
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let padded = zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
            print(padded.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        return 0
    }
}
