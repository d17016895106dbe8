import Foundation
import Layering
import OCI
import Runner

/// The command line: finds the command, parses its options, runs it, and maps errors to
/// exit statuses. Takes an argv array so that tests can run any command in-process.
enum Crib {
    static let version = "0.1.0"

    /// Every command, in the order `crib --help` lists them.
    static let commands: [any Command.Type] = [
        BuildCommand.self,
        RunCommand.self,
        CheckpointCommand.self,
        PsCommand.self,
        RmCommand.self,
        ImagesCommand.self,
        InspectCommand.self,
        TagCommand.self,
        RmiCommand.self,
        PruneCommand.self,
        CheckCommand.self,
        ImportCommand.self,
        UnpackCommand.self,
        PullCommand.self,
        PushCommand.self,
        CopyCommand.self,
        SaveCommand.self,
        LoadCommand.self,
        LoginCommand.self,
        LogoutCommand.self,
        VersionCommand.self,
    ]

    /// Runs `arguments` (without the program name) and returns the exit status.
    static func main(_ arguments: [String]) -> Int32 {
        do {
            return try dispatch(arguments)
        } catch {
            report(error)
            return exitStatus(for: error)
        }
    }

    private static func dispatch(_ arguments: [String]) throws -> Int32 {
        // Global options may come before the command name: `crib --root DIR images`.
        var leading = [String]()
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("-") {
            leading.append(first)
            rest = rest.dropFirst()
            if let spec = GlobalOptions.specs.first(where: { "--\($0.long)" == first }), spec.kind != .flag {
                guard let value = rest.first else { throw UsageError("option \(first) requires a value (\(spec.valueName))") }
                leading.append(value)
                rest = rest.dropFirst()
            }
        }

        guard let name = rest.first else {
            let global = try ArgumentParser.parse(leading, options: GlobalOptions.specs, command: "crib")
            print(overview())
            return global.flag("help") ? 0 : 125
        }
        if name == "help" {
            if let topic = rest.dropFirst().first, let command = commands.first(where: { $0.name == topic }) {
                print(command.help())
            } else {
                print(overview())
            }
            return 0
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            throw UsageError("unknown command \"\(name)\"; run crib --help for the list")
        }

        let parsed = try ArgumentParser.parse(
            leading + Array(rest.dropFirst()),
            options: command.options + GlobalOptions.specs,
            stopAtPositional: command.stopsAtFirstPositional,
            command: command.name
        )
        if parsed.flag("help") {
            print(command.help())
            return 0
        }
        let global = try GlobalOptions(arguments: parsed)
        return try command.init(arguments: parsed, global: global).run()
    }

    static func overview() -> String {
        var text = "crib \(version): build OCI images from Dockerfiles, checkpoint them with CRIU, and restore them\n\n"
        text += "Usage: crib [--root DIR] COMMAND [OPTIONS] [ARGUMENTS]\n\nCommands:\n"
        let width = commands.map { $0.name.count }.max() ?? 0
        for command in commands {
            text += "  \(command.name)\(String(repeating: " ", count: width - command.name.count + 2))\(command.abstract)\n"
        }
        text += "\nRun crib COMMAND --help for the options of one command."
        return text
    }

    private static func report(_ error: any Error) {
        var message = "crib: \(describe(error))\n"
        if let hint = hint(for: error) { message += "hint: \(hint)\n" }
        FileHandle.standardError.write(Data(message.utf8))
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error)
    }

    /// crib's own failures exit 125; a container command that cannot be run 126, one not
    /// found 127, as podman does.
    static func exitStatus(for error: any Error) -> Int32 {
        if let runner = error as? RunnerError { return runner.exitStatus }
        return 125
    }

    static func hint(for error: any Error) -> String? {
        if let usage = error as? UsageError, let command = usage.command {
            return "run crib \(command) --help for its options"
        }
        if case .commandFailed(_, _, let errno)? = error as? RunnerError, errno == ENOENT {
            return "the command is looked up in the container's PATH; give a path inside the image"
        }
        switch error {
        case OCIError.connectionFailed(_, _, let underlying) where underlying.contains("wrong version number"):
            // OpenSSL's text when the server replies to the TLS handshake in plain HTTP.
            return "the registry seems to speak plain HTTP; add --tls-verify=false if you trust it"
        case LayeringError.archive(let operation, _, _) where operation == "unpack layer":
            return "a stored blob may be damaged: crib check lists damaged blobs, and crib check --repair removes them"
        default:
            return nil
        }
    }
}
