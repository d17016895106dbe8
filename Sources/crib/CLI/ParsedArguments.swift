/// The result of parsing one command line against a command's options.
struct ParsedArguments: Sendable {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    func flag(_ long: String) -> Bool { flags.contains(long) }

    /// The last value given for a single-value option.
    func value(_ long: String) -> String? { values[long]?.last }

    /// Every value given for a repeated option, in order.
    func values(_ long: String) -> [String] { values[long] ?? [] }
}

/// Errors in what the user typed; reported as `crib: <message>` with exit status 125.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    let command: String?

    init(_ message: String, command: String? = nil) {
        self.message = message
        self.command = command
    }

    var description: String { message }
}

enum ArgumentParser {
    /// Parses `arguments` (without the command name).
    ///
    /// Options may come before, between and after positionals, as podman accepts them, unless
    /// `stopAtPositional` is set: then the first positional ends option parsing, so that
    /// `crib run IMAGE ls -l` passes `-l` to the container. `--` always ends option parsing.
    static func parse(
        _ arguments: [String], options: [OptionSpec], stopAtPositional: Bool = false, command: String
    ) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0

        func record(_ spec: OptionSpec, _ value: String?) {
            switch spec.kind {
            case .flag: parsed.flags.insert(spec.long)
            case .value, .repeated: parsed.values[spec.long, default: []].append(value ?? "")
            }
        }

        func takeValue(for spec: OptionSpec, spelled: String) throws -> String {
            index += 1
            guard index < arguments.count else {
                throw UsageError("option \(spelled) requires a value (\(spec.valueName))", command: command)
            }
            return arguments[index]
        }

        while index < arguments.count {
            let argument = arguments[index]

            if argument == "--" {
                parsed.positionals.append(contentsOf: arguments[(index + 1)...])
                break
            }

            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: Substring
                var inlineValue: String?
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                guard let spec = options.first(where: { $0.long == name }) else {
                    throw UsageError("unknown option --\(name)", command: command)
                }
                if spec.kind == .flag {
                    if let inlineValue {
                        switch inlineValue {
                        case "true": parsed.flags.insert(spec.long)
                        case "false": parsed.flags.remove(spec.long)
                        default:
                            throw UsageError("option --\(name) takes true or false, not \"\(inlineValue)\"", command: command)
                        }
                    } else {
                        record(spec, nil)
                    }
                } else {
                    record(spec, try inlineValue ?? takeValue(for: spec, spelled: "--\(name)"))
                }
                index += 1
                continue
            }

            if argument.hasPrefix("-") && argument.count > 1 {
                // A cluster of short options: `-it`, or `-p8080:80` with the value attached.
                var characters = Substring(argument.dropFirst())
                while let letter = characters.first {
                    characters = characters.dropFirst()
                    guard let spec = options.first(where: { $0.short == letter }) else {
                        throw UsageError("unknown option -\(letter)", command: command)
                    }
                    if spec.kind == .flag {
                        record(spec, nil)
                        continue
                    }
                    if characters.isEmpty {
                        record(spec, try takeValue(for: spec, spelled: "-\(letter)"))
                    } else {
                        record(spec, String(characters.hasPrefix("=") ? characters.dropFirst() : characters))
                    }
                    break
                }
                index += 1
                continue
            }

            parsed.positionals.append(argument)
            index += 1
            if stopAtPositional {
                parsed.positionals.append(contentsOf: arguments[index...])
                break
            }
        }
        return parsed
    }
}
