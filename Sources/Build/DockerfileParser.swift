import Foundation

/// Turns Dockerfile text into instructions, following the Dockerfile reference's syntax:
/// parser directives, comments, line continuations, heredocs, then one typed node per instruction.
public enum DockerfileParser {
    /// The parser directives the reference defines; any other `# key=value` at the top of the
    /// file is an ordinary comment and ends the directives.
    static let knownDirectives: Set<String> = ["syntax", "escape", "check"]

    /// Parses `text`; `file` is the name errors and locations carry, as the user spelled it.
    public static func parse(_ text: String, file: String = "Dockerfile") throws -> Dockerfile {
        // Swift reads "\r\n" as one Character, so both line ends are separators here.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if let first = lines.first, first.hasPrefix("\u{FEFF}") {
            lines[0] = first.dropFirst()
        }

        let (directives, escape) = try readDirectives(lines, file: file)
        let logicalLines = try readLogicalLines(lines, escape: escape, file: file)
        let parser = InstructionParser(escape: escape)
        let instructions = try logicalLines.map { try parser.parse($0) }
        return try Dockerfile(path: file, directives: directives, escape: escape, instructions: instructions)
    }

    /// Reads the parser directives at the top of the file. They stop at the first line that is
    /// not one: an instruction, an empty line, or a comment that is no known directive.
    static func readDirectives(_ lines: [Substring], file: String) throws -> ([String: String], Character) {
        var directives = [String: String]()
        for (index, line) in lines.enumerated() {
            guard let (key, value) = directive(in: line), knownDirectives.contains(key) else { break }
            let location = SourceLocation(file: file, line: index + 1)
            guard directives[key] == nil else {
                throw BuildError.syntax(location, "the \(key) parser directive may appear only once")
            }
            if key == "escape" && value != "\\" && value != "`" {
                throw BuildError.syntax(location, "invalid escape character \"\(value)\": expected \\ or `")
            }
            directives[key] = value
        }
        let escape: Character = directives["escape"] == "`" ? "`" : "\\"
        return (directives, escape)
    }

    /// Returns the lower-cased key and the value of a `# key=value` line, which allows blanks around each part.
    static func directive(in line: Substring) -> (String, String)? {
        var rest = line.drop(while: isBlank)
        guard rest.first == "#" else { return nil }
        rest = rest.dropFirst().drop(while: isBlank)
        guard let first = rest.first, first.isASCII, first.isLetter else { return nil }
        let key = rest.prefix(while: { $0.isASCII && ($0.isLetter || $0.isNumber) })
        rest = rest[key.endIndex...].drop(while: isBlank)
        guard rest.first == "=" else { return nil }
        let value = dropTrailingBlanks(rest.dropFirst().drop(while: isBlank))
        guard !value.isEmpty else { return nil }
        return (key.lowercased(), String(value))
    }

    /// Joins continuation lines, drops comments and empty lines, and collects heredoc bodies.
    static func readLogicalLines(_ lines: [Substring], escape: Character, file: String) throws -> [LogicalLine] {
        var result = [LogicalLine]()
        var index = 0

        while index < lines.count {
            let startLine = index + 1
            let first = lines[index].drop(while: isBlank)
            index += 1
            if first.isEmpty || first.hasPrefix("#") { continue }

            var (text, continues) = trimContinuation(first, escape: escape)
            while continues && index < lines.count {
                let next = lines[index]
                index += 1
                let stripped = next.drop(while: isBlank)
                // Comment lines and empty lines inside a continuation are dropped without
                // ending it, as the reference describes.
                if stripped.hasPrefix("#") || stripped.isEmpty { continue }
                let part: Substring
                (part, continues) = trimContinuation(next, escape: escape)
                text += part
            }
            if text.allSatisfy(isBlank) { continue }

            var heredocs = [Heredoc]()
            for opener in heredocOpeners(in: text, escape: escape) {
                let heredocStart = index + 1
                var body = ""
                var terminated = false
                while index < lines.count {
                    let line = lines[index]
                    index += 1
                    let candidate = opener.stripsTabs ? line.drop(while: { $0 == "\t" }) : line
                    if candidate == opener.name {
                        terminated = true
                        break
                    }
                    body += line + "\n"
                }
                guard terminated else {
                    throw BuildError.syntax(
                        SourceLocation(file: file, line: heredocStart - 1),
                        "heredoc \(opener.word) is not terminated: expected a line \"\(opener.name)\" before the end of the file"
                    )
                }
                heredocs.append(
                    Heredoc(
                        name: opener.name, rawContent: body, expands: opener.expands, stripsTabs: opener.stripsTabs,
                        fileDescriptor: opener.fileDescriptor, word: opener.word))
            }

            let location = SourceLocation(file: file, line: startLine, endLine: index)
            result.append(LogicalLine(location: location, text: String(text), heredocs: heredocs))
        }
        return result
    }

    /// Removes a trailing escape character and the blanks after it, and returns whether one was there.
    static func trimContinuation(_ line: Substring, escape: Character) -> (Substring, Bool) {
        let content = dropTrailingBlanks(line)
        guard content.last == escape else { return (line, false) }
        return (content.dropLast(), true)
    }

    static func dropTrailingBlanks(_ text: Substring) -> Substring {
        guard let last = text.lastIndex(where: { !isBlank($0) }) else { return text.prefix(0) }
        return text[...last]
    }

    /// A `<<NAME` word on an instruction line, before its body is read.
    struct HeredocOpener {
        let name: String
        let expands: Bool
        let stripsTabs: Bool
        let fileDescriptor: Int?
        let word: String
    }

    /// Finds the heredoc openers on `text` when its instruction can take heredocs (RUN, COPY, ADD)
    /// and is not in JSON form. A word in quotes, such as `"<<EOF"`, is no opener.
    static func heredocOpeners(in text: Substring, escape: Character) -> [HeredocOpener] {
        let trimmed = text.drop(while: isBlank)
        let keyword = trimmed.prefix(while: { !isBlank($0) }).uppercased()
        guard ["RUN", "COPY", "ADD"].contains(keyword), text.contains("<<") else { return [] }
        let arguments = ArgumentWords.extractFlags(trimmed.dropFirst(keyword.count), escape: escape).rest
        if arguments.hasPrefix("["), InstructionParser.jsonArray(arguments) != nil { return [] }

        var openers = [HeredocOpener]()
        for word in ArgumentWords.splitKeepingQuotes(arguments, escape: escape) {
            let digits = word.prefix(while: { $0.isASCII && $0.isNumber })
            var rest = word.dropFirst(digits.count)
            guard rest.hasPrefix("<<") else { continue }
            rest = rest.dropFirst(2)
            let stripsTabs = rest.hasPrefix("-")
            if stripsTabs { rest = rest.dropFirst() }
            guard let first = rest.first, first != "<" else { continue }

            // Any quoting of the delimiter turns expansion off, as in the POSIX shell.
            let quoted = rest.contains(where: { $0 == "\"" || $0 == "'" || $0 == escape })
            let name = String(rest.filter { $0 != "\"" && $0 != "'" && $0 != escape })
            guard !name.isEmpty else { continue }
            openers.append(
                HeredocOpener(
                    name: name, expands: !quoted, stripsTabs: stripsTabs, fileDescriptor: digits.isEmpty ? nil : Int(digits),
                    word: word))
        }
        return openers
    }

    static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
}
