import Foundation
import OCI

/// Options every command accepts, before or after the command name.
struct GlobalOptions: Sendable {
    static let specs: [OptionSpec] = [
        .value("root", "DIR", help: "store images and containers under DIR (default: CRIB_ROOT, /var/lib/crib or ~/.local/share/crib)"),
        .flag("quiet", short: "q", help: "print no progress"),
        .flag("debug", help: "print debug messages with timestamps"),
        .flag("help", short: "h", help: "show this help"),
    ]

    let root: RootDirectory
    let quiet: Bool
    let debug: Bool
    let log: any LogSink

    /// Opens the store under the chosen root, creating it on first use.
    func openStore() throws -> ContentStore {
        try ContentStore(root: root, log: log)
    }

    /// Opens the store for a command that only reads it: nothing is created and nothing locked.
    func openStoreForReading() throws -> ContentStore {
        try ContentStore(root: root, log: log, readOnly: true)
    }

    init(arguments: ParsedArguments) throws {
        if let explicit = arguments.value("root"), explicit.isEmpty {
            throw UsageError("option --root requires a directory, not an empty string")
        }
        root = RootDirectory.resolve(explicit: arguments.value("root"))
        quiet = arguments.flag("quiet")
        debug = arguments.flag("debug")
        log = StderrLog(minimum: debug ? .debug : (quiet ? .warning : .info), timestamps: debug)
    }
}

/// Writes log lines to stderr: `crib: message`, with a timestamp at the debug level.
struct StderrLog: LogSink {
    let minimum: LogLevel
    let timestamps: Bool

    func log(_ level: LogLevel, _ message: String) {
        guard level >= minimum else { return }
        var line = ""
        if timestamps {
            line += ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime, .withFractionalSeconds]) + " "
        }
        if level == .warning { line += "warning: " }
        line += message + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
