import Foundation

/// Turns one logical line into a typed instruction, checking its flags and argument count.
struct InstructionParser {
    let escape: Character

    private static let copyFlags: [String: InstructionFlags.Kind] = [
        "from": .string, "chown": .string, "chmod": .string, "link": .bool, "parents": .bool, "exclude": .list,
    ]
    private static let addFlags: [String: InstructionFlags.Kind] = [
        "chown": .string, "chmod": .string, "link": .bool, "checksum": .string, "keep-git-dir": .bool,
        "exclude": .list, "unpack": .bool,
    ]
    private static let runFlags: [String: InstructionFlags.Kind] = [
        "mount": .list, "network": .string, "security": .string,
    ]
    private static let healthcheckFlags: [String: InstructionFlags.Kind] = [
        "interval": .string, "timeout": .string, "start-period": .string, "start-interval": .string,
        "retries": .string,
    ]

    func parse(_ line: LogicalLine) throws -> Instruction {
        let trimmed = line.text.drop(while: DockerfileParser.isBlank)
        let word = trimmed.prefix(while: { !DockerfileParser.isBlank($0) })
        let keyword = word.uppercased()
        let text = String(DockerfileParser.dropTrailingBlanks(trimmed))
        let location = line.location
        let (flagWords, rest) = ArgumentWords.extractFlags(trimmed.dropFirst(word.count), escape: escape)
        let arguments = DockerfileParser.dropTrailingBlanks(rest)

        func flags(_ accepted: [String: InstructionFlags.Kind]) throws -> InstructionFlags {
            try InstructionFlags(flagWords, keyword: keyword, accepted: accepted, location: location)
        }
        func requireArguments() throws {
            guard !arguments.isEmpty else {
                throw BuildError.syntax(location, "\(keyword) requires at least one argument")
            }
        }

        let kind: Instruction.Kind
        switch keyword {
        case "FROM":
            let flags = try flags(["platform": .string])
            kind = .from(try parseFrom(arguments, platform: flags.strings["platform"], location: location))

        case "ARG":
            _ = try flags([:])
            try requireArguments()
            kind = .arg(try parseArg(arguments, location: location))

        case "ENV", "LABEL":
            _ = try flags([:])
            try requireArguments()
            let pairs = try parseKeyValues(arguments, keyword: keyword, location: location)
            kind = keyword == "ENV" ? .env(pairs) : .label(pairs)

        case "COPY", "ADD":
            let isAdd = keyword == "ADD"
            let flags = try flags(isAdd ? Self.addFlags : Self.copyFlags)
            kind = .copy(try parseCopy(arguments, isAdd: isAdd, flags: flags, heredocs: line.heredocs, location: location))

        case "RUN":
            let flags = try flags(Self.runFlags)
            try requireArguments()
            kind = .run(
                Instruction.Run(
                    command: commandLine(arguments), heredocs: line.heredocs, mounts: flags.lists["mount"] ?? [],
                    network: flags.strings["network"], security: flags.strings["security"]))

        case "CMD", "ENTRYPOINT":
            _ = try flags([:])
            try requireArguments()
            kind = keyword == "CMD" ? .cmd(commandLine(arguments)) : .entrypoint(commandLine(arguments))

        case "SHELL":
            _ = try flags([:])
            try requireArguments()
            guard let shell = Self.jsonArray(arguments) else {
                throw BuildError.syntax(location, "SHELL requires a JSON array, such as SHELL [\"/bin/bash\", \"-c\"]")
            }
            guard !shell.isEmpty else {
                throw BuildError.syntax(location, "SHELL requires at least one argument")
            }
            kind = .shell(shell)

        case "WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER":
            _ = try flags([:])
            guard !arguments.isEmpty else {
                throw BuildError.syntax(location, "\(keyword) requires exactly one argument")
            }
            let value = String(arguments)
            switch keyword {
            case "WORKDIR": kind = .workdir(value)
            case "USER": kind = .user(value)
            case "STOPSIGNAL": kind = .stopSignal(value)
            default: kind = .maintainer(value)
            }

        case "EXPOSE":
            _ = try flags([:])
            try requireArguments()
            kind = .expose(ArgumentWords.splitAtWhitespace(arguments))

        case "VOLUME":
            _ = try flags([:])
            try requireArguments()
            let paths = Self.jsonArray(arguments) ?? ArgumentWords.splitAtWhitespace(arguments)
            guard !paths.isEmpty else {
                throw BuildError.syntax(location, "VOLUME requires at least one argument")
            }
            guard !paths.contains(where: { $0.isEmpty }) else {
                throw BuildError.syntax(location, "VOLUME paths cannot be empty strings")
            }
            kind = .volume(paths)

        case "HEALTHCHECK":
            let flags = try flags(Self.healthcheckFlags)
            try requireArguments()
            kind = .healthcheck(try parseHealthcheck(arguments, flags: flags, location: location))

        case "ONBUILD":
            _ = try flags([:])
            try requireArguments()
            let triggerKeyword = arguments.prefix(while: { !DockerfileParser.isBlank($0) }).uppercased()
            guard !["ONBUILD", "FROM", "MAINTAINER"].contains(triggerKeyword) else {
                throw BuildError.syntax(location, "ONBUILD cannot trigger \(triggerKeyword)")
            }
            let trigger = LogicalLine(location: location, text: String(arguments), heredocs: [])
            kind = .onbuild(try parse(trigger))

        default:
            let shown = word.isEmpty ? String(trimmed.prefix(20)) : String(word)
            throw BuildError.syntax(location, "unknown instruction \"\(shown)\"")
        }
        return Instruction(location: location, text: text, kind: kind)
    }

    // MARK: - Instruction arguments

    private func parseFrom(_ arguments: Substring, platform: String?, location: SourceLocation) throws -> Instruction.From {
        let words = ArgumentWords.splitAtWhitespace(arguments)
        switch words.count {
        case 1:
            return Instruction.From(image: words[0], platform: platform)
        case 3 where words[1].lowercased() == "as":
            let name = words[2].lowercased()
            guard Self.isValidStageName(name) else {
                throw BuildError.syntax(
                    location,
                    "invalid stage name \"\(words[2])\": it must start with a letter and contain only letters, digits, '-', '_' and '.'"
                )
            }
            return Instruction.From(image: words[0], stageName: name, platform: platform)
        default:
            throw BuildError.syntax(location, "FROM requires either one or three arguments: FROM IMAGE [AS NAME]")
        }
    }

    static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private func parseArg(_ arguments: Substring, location: SourceLocation) throws -> [Instruction.ArgDeclaration] {
        try ArgumentWords.splitKeepingQuotes(arguments, escape: escape).map { word in
            guard let equals = word.firstIndex(of: "=") else {
                return Instruction.ArgDeclaration(name: word)
            }
            let name = String(word[..<equals])
            guard !name.isEmpty else {
                throw BuildError.syntax(location, "ARG requires a name before = in \"\(word)\"")
            }
            return Instruction.ArgDeclaration(name: name, defaultValue: String(word[word.index(after: equals)...]))
        }
    }

    /// ENV and LABEL: `KEY=VALUE ...`, or the legacy `KEY VALUE` where the value is the rest of the line.
    private func parseKeyValues(_ arguments: Substring, keyword: String, location: SourceLocation) throws
        -> [Instruction.KeyValue]
    {
        let words = ArgumentWords.splitKeepingQuotes(arguments, escape: escape)
        guard let first = words.first else {
            throw BuildError.syntax(location, "\(keyword) requires at least one argument")
        }

        if !first.contains("=") {
            let key = arguments.prefix(while: { !DockerfileParser.isBlank($0) })
            let value = arguments.dropFirst(key.count).drop(while: DockerfileParser.isBlank)
            guard !value.isEmpty else {
                throw BuildError.syntax(location, "\(keyword) \(key) requires a value: \(keyword) \(key)=VALUE")
            }
            return [Instruction.KeyValue(String(key), String(value))]
        }

        return try words.map { word in
            guard let equals = word.firstIndex(of: "=") else {
                throw BuildError.syntax(location, "\(keyword) expects KEY=VALUE pairs, but \"\(word)\" has no =")
            }
            let key = String(word[..<equals])
            guard !key.isEmpty else {
                throw BuildError.syntax(location, "\(keyword) requires a name before = in \"\(word)\"")
            }
            return Instruction.KeyValue(key, String(word[word.index(after: equals)...]))
        }
    }

    private func parseCopy(
        _ arguments: Substring, isAdd: Bool, flags: InstructionFlags, heredocs: [Heredoc], location: SourceLocation
    ) throws -> Instruction.Copy {
        let keyword = isAdd ? "ADD" : "COPY"
        let json = Self.jsonArray(arguments)
        let words = json ?? ArgumentWords.splitAtWhitespace(arguments)
        guard words.count >= 2 else {
            throw BuildError.syntax(
                location, "\(keyword) requires at least two arguments, a source and a destination: \(keyword) SOURCE... DEST")
        }

        var remaining = heredocs[...]
        var sources = [Instruction.Copy.Source]()
        for word in words.dropLast() {
            if json == nil, let heredoc = remaining.first, heredoc.word == word {
                sources.append(.heredoc(heredoc))
                remaining = remaining.dropFirst()
            } else {
                sources.append(.path(word))
            }
        }
        let destination = words[words.count - 1]
        if json == nil, heredocs.contains(where: { $0.word == destination }) {
            throw BuildError.syntax(location, "\(keyword) destination cannot be a heredoc: \(destination)")
        }

        return Instruction.Copy(
            isAdd: isAdd, sources: sources, destination: destination, from: flags.strings["from"],
            chown: flags.strings["chown"], chmod: flags.strings["chmod"], link: flags.bools["link"] ?? false,
            parents: flags.bools["parents"] ?? false, excludes: flags.lists["exclude"] ?? [],
            checksum: flags.strings["checksum"], keepGitDirectory: flags.bools["keep-git-dir"] ?? false,
            unpack: flags.bools["unpack"], isJSONForm: json != nil)
    }

    private func parseHealthcheck(_ arguments: Substring, flags: InstructionFlags, location: SourceLocation) throws
        -> Instruction.Healthcheck
    {
        let type = arguments.prefix(while: { !DockerfileParser.isBlank($0) })
        let rest = arguments.dropFirst(type.count).drop(while: DockerfileParser.isBlank)
        switch type.uppercased() {
        case "NONE":
            guard rest.isEmpty, flags.isEmpty else {
                throw BuildError.syntax(location, "HEALTHCHECK NONE takes no other arguments or flags")
            }
            return Instruction.Healthcheck(command: nil)
        case "CMD":
            guard !rest.isEmpty else {
                throw BuildError.syntax(location, "HEALTHCHECK CMD requires a command")
            }
            func duration(_ name: String) throws -> Int64? {
                guard let text = flags.strings[name] else { return nil }
                guard let value = GoDuration.nanoseconds(text), value >= 0 else {
                    throw BuildError.syntax(location, "HEALTHCHECK --\(name) has an invalid duration \"\(text)\", expected such as 30s or 1m30s")
                }
                // Docker rejects durations below one millisecond, other than zero, which means the default.
                guard value == 0 || value >= 1_000_000 else {
                    throw BuildError.syntax(location, "HEALTHCHECK --\(name) must be 0 or at least 1ms, got \(text)")
                }
                return value
            }
            var retries: Int?
            if let text = flags.strings["retries"] {
                guard let value = Int(text), value >= 0 else {
                    throw BuildError.syntax(location, "HEALTHCHECK --retries expects a whole number of at least 0, got \"\(text)\"")
                }
                retries = value
            }
            return Instruction.Healthcheck(
                command: commandLine(rest), interval: try duration("interval"), timeout: try duration("timeout"),
                startPeriod: try duration("start-period"), startInterval: try duration("start-interval"),
                retries: retries)
        default:
            throw BuildError.syntax(location, "HEALTHCHECK expects CMD or NONE, got \"\(type)\"")
        }
    }

    // MARK: - Forms

    private func commandLine(_ arguments: Substring) -> Instruction.CommandLine {
        if let array = Self.jsonArray(arguments) { return .exec(array) }
        return .shell(String(arguments))
    }

    /// The strings of a JSON array of strings, or nil when `text` is anything else; the
    /// reference then reads the instruction in shell form.
    static func jsonArray(_ text: Substring) -> [String]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(trimmed.utf8))
    }
}
