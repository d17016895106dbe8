/// Variable substitution as the Dockerfile reference defines it: `$V`, `${V}`, `${V:-word}`,
/// `${V-word}`, `${V:+word}`, `${V+word}`, `${V:?message}`, `${V?message}`, and the pattern
/// removals `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`.
///
/// Quotes are removed the way a POSIX shell removes them: nothing is special inside single
/// quotes, and inside double quotes only `$` and the escape character before `"`, `$` or
/// itself are. Outside quotes the escape character takes the next character literally, so
/// `\$FOO` stays `$FOO`. A variable absent from the dictionary is unset; one mapped to ""
/// is set and empty, which the forms without a colon tell apart.
public struct VariableExpander: Sendable {
    public let escape: Character

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(escape: Character = "\\") {
        self.escape = escape
    }

    /// The maximum length of one expanded text, in UTF-8 bytes. Linux rejects any argument or
    /// environment string over 128 KiB (MAX_ARG_STRLEN), so no RUN step could use more. Without
    /// the bound, a Dockerfile that repeats `ENV A=$A$A` doubles A on every line.
    public static let maximumLength = 1 << 20

    /// The maximum number of steps of one `${V#p}` or `${V%p}` match, pattern length times value
    /// length. A 1,000-character pattern on a 1 MiB value would otherwise take a billion steps.
    public static let maximumMatchingCost = 1 << 26

    /// Expands `text` into one word: quotes removed, whitespace kept. ENV, LABEL, ARG, COPY,
    /// ADD, WORKDIR, USER, VOLUME, STOPSIGNAL and FROM values are expanded this way.
    public func expand(_ text: String, _ variables: [String: String]) throws -> String {
        var scanner = Scanner(characters: Array(text), escape: escape, variables: variables, quotesAreLiteral: false)
        let pieces = try scanner.scan(until: nil)
        return pieces.map(\.text).joined()
    }

    /// Expands `text` and splits it at whitespace outside quotes, including whitespace that
    /// an unquoted variable brings in, as EXPOSE splits its ports.
    public func expandWords(_ text: String, _ variables: [String: String]) throws -> [String] {
        var scanner = Scanner(characters: Array(text), escape: escape, variables: variables, quotesAreLiteral: false)
        var words = [String]()
        var current = ""
        var inWord = false

        func finishWord() {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        }

        for piece in try scanner.scan(until: nil) {
            switch piece {
            case .blank:
                finishWord()
            case .literal(let text):
                current += text
                inWord = true
            case .expansion(let value):
                var first = true
                for part in value.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                    if !first { finishWord() }
                    first = false
                    if !part.isEmpty {
                        current += part
                        inWord = true
                    }
                }
            }
        }
        finishWord()
        return words
    }

    /// Expands the body of a heredoc whose delimiter was not quoted: quotes are ordinary
    /// characters there, and the escape character protects only `$` and itself.
    public func expandHeredoc(_ text: String, _ variables: [String: String]) throws -> String {
        var scanner = Scanner(characters: Array(text), escape: escape, variables: variables, quotesAreLiteral: true)
        return try scanner.scan(until: nil).map(\.text).joined()
    }
}

extension VariableExpander {
    enum Piece {
        /// Blanks outside quotes, which separate words.
        case blank(String)
        /// Text that is never split: quoted, escaped or plain characters.
        case literal(String)
        /// The value of an unquoted variable, which word splitting splits.
        case expansion(String)

        var text: String {
            switch self {
            case .blank(let text), .literal(let text), .expansion(let text): return text
            }
        }
    }

    struct Scanner {
        let characters: [Character]
        let escape: Character
        let variables: [String: String]
        let quotesAreLiteral: Bool
        var position = 0

        init(characters: [Character], escape: Character, variables: [String: String], quotesAreLiteral: Bool) {
            self.characters = characters
            self.escape = escape
            self.variables = variables
            self.quotesAreLiteral = quotesAreLiteral
        }

        var peek: Character? { position < characters.count ? characters[position] : nil }

        /// Scans until `stop` outside quotes (left unread) or the end of the text.
        mutating func scan(until stop: Character?) throws -> [Piece] {
            var pieces = [Piece]()
            var length = 0
            while let character = peek {
                if character == stop { break }
                // Every round appends exactly one piece: count the previous round's.
                if let last = pieces.last {
                    length += last.text.utf8.count
                    try Self.checkLength(length)
                }

                if quotesAreLiteral {
                    if character == "$" {
                        pieces.append(.expansion(try dollar()))
                    } else if character == escape, position + 1 < characters.count,
                        characters[position + 1] == "$" || characters[position + 1] == escape
                    {
                        pieces.append(.literal(String(characters[position + 1])))
                        position += 2
                    } else {
                        pieces.append(.literal(String(character)))
                        position += 1
                    }
                    continue
                }

                switch character {
                case " ", "\t", "\n":
                    pieces.append(.blank(String(character)))
                    position += 1
                case "'":
                    pieces.append(.literal(try singleQuoted()))
                case "\"":
                    pieces.append(.literal(try doubleQuoted()))
                case escape:
                    position += 1
                    if let next = peek {
                        pieces.append(.literal(String(next)))
                        position += 1
                    } else {
                        pieces.append(.literal(String(escape)))
                    }
                case "$":
                    pieces.append(.expansion(try dollar()))
                default:
                    pieces.append(.literal(String(character)))
                    position += 1
                }
            }
            if let last = pieces.last { try Self.checkLength(length + last.text.utf8.count) }
            return pieces
        }

        static func checkLength(_ length: Int) throws {
            guard length <= VariableExpander.maximumLength else {
                throw Failure(description: "the expanded text is longer than \(VariableExpander.maximumLength) bytes")
            }
        }

        private mutating func singleQuoted() throws -> String {
            position += 1
            var text = ""
            while let character = peek {
                position += 1
                if character == "'" { return text }
                text.append(character)
            }
            throw Failure(description: "a single quote is not closed")
        }

        private mutating func doubleQuoted() throws -> String {
            position += 1
            var text = ""
            while let character = peek {
                switch character {
                case "\"":
                    position += 1
                    return text
                case "$":
                    text += try dollar()
                    try Self.checkLength(text.utf8.count)
                case escape:
                    position += 1
                    if let next = peek, next == "\"" || next == "$" || next == escape {
                        text.append(next)
                        position += 1
                    } else {
                        text.append(escape)
                    }
                default:
                    text.append(character)
                    position += 1
                }
            }
            throw Failure(description: "a double quote is not closed")
        }

        /// Reads a name: letters, digits and `_`, or the digits of a positional parameter, or
        /// one special parameter character. Those last two are never set in a Dockerfile.
        private mutating func name() -> String {
            guard let first = peek else { return "" }
            if first.isASCII && first.isNumber {
                var digits = ""
                while let character = peek, character.isASCII, character.isNumber {
                    digits.append(character)
                    position += 1
                }
                return digits
            }
            if "@*#?$!-".contains(first) {
                position += 1
                return String(first)
            }
            var name = ""
            while let character = peek, character == "_" || (character.isASCII && (character.isLetter || character.isNumber)) {
                name.append(character)
                position += 1
            }
            return name
        }

        private mutating func dollar() throws -> String {
            position += 1
            guard peek == "{" else {
                let name = name()
                guard !name.isEmpty else { return "$" }
                return variables[name] ?? ""
            }

            position += 1
            let name = name()
            guard !name.isEmpty else { throw Failure(description: "bad substitution: a ${ has no variable name") }
            guard var modifier = peek else { throw Failure(description: "${\(name) is missing its closing }") }
            if modifier == "}" {
                position += 1
                return variables[name] ?? ""
            }

            var colon = false
            if modifier == ":" {
                colon = true
                position += 1
                guard let next = peek else { throw Failure(description: "${\(name): is missing its closing }") }
                modifier = next
            }
            position += 1

            switch modifier {
            case "-", "+", "?":
                let word = try nestedWord(name)
                let value = variables[name]
                let isSet = colon ? !(value ?? "").isEmpty : value != nil
                switch modifier {
                case "-":
                    return isSet ? value ?? "" : word
                case "+":
                    return isSet ? word : ""
                default:
                    if isSet { return value ?? "" }
                    throw Failure(description: "\(name): \(word.isEmpty ? "is not set" : word)")
                }
            case "#", "%" where !colon:
                let longest = peek == modifier
                if longest { position += 1 }
                let word = try nestedWord(name)
                let value = variables[name] ?? ""
                let pattern: GlobPattern
                do {
                    pattern = try GlobPattern(word, separator: nil, escape: escape)
                } catch let error as GlobPattern.SyntaxError {
                    throw Failure(description: "invalid pattern \"\(word)\" in ${\(name)\(modifier)…}: \(error.description)")
                }
                guard pattern.matchingCost(of: value) <= VariableExpander.maximumMatchingCost else {
                    throw Failure(
                        description: "the pattern in ${\(name)\(modifier)…} (\(word.count) characters) is too long to match against a value of \(value.count) characters")
                }
                if modifier == "#" {
                    guard let length = pattern.matchingPrefixLength(of: value, longest: longest) else { return value }
                    return String(value.dropFirst(length))
                }
                guard let length = pattern.matchingSuffixLength(of: value, longest: longest) else { return value }
                return String(value.dropLast(length))
            default:
                throw Failure(description: "unsupported modifier \"\(colon ? ":" : "")\(modifier)\" in ${\(name)…}")
            }
        }

        /// Reads the word of `${name:-word}` up to its closing brace, expanding it in turn.
        private mutating func nestedWord(_ name: String) throws -> String {
            let pieces = try scan(until: "}")
            guard peek == "}" else { throw Failure(description: "${\(name)… is missing its closing }") }
            position += 1
            return pieces.map(\.text).joined()
        }
    }
}
