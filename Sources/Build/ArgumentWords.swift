/// Word splitting that the parser does before any variable expansion.
enum ArgumentWords {
    /// Splits `text` at whitespace outside quotes and keeps the quotes and escapes in the
    /// words, because ENV, LABEL and ARG values are only unquoted when they are expanded.
    static func splitKeepingQuotes(_ text: Substring, escape: Character) -> [String] {
        var words = [String]()
        var current = ""
        var inWord = false
        var quote: Character?
        var index = text.startIndex

        while index < text.endIndex {
            let character = text[index]
            if quote == nil && character.isWhitespace {
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
                index = text.index(after: index)
                continue
            }
            inWord = true

            if character == escape && quote != "'" {
                current.append(character)
                index = text.index(after: index)
                if index < text.endIndex {
                    current.append(text[index])
                    index = text.index(after: index)
                }
                continue
            }
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            }
            current.append(character)
            index = text.index(after: index)
        }
        if inWord { words.append(current) }
        return words
    }

    /// Splits `text` at runs of whitespace and nothing else, as FROM, EXPOSE and the shell
    /// form of COPY and VOLUME are split by the reference's parser.
    static func splitAtWhitespace(_ text: Substring) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Reads the `--name=value` flags at the start of `text` and returns them with the rest.
    ///
    /// Quotes inside a flag are removed and the escape character protects the next
    /// character, so `--mount=type=secret,id="a b"` stays one flag. A bare `--` ends the flags.
    static func extractFlags(_ text: Substring, escape: Character) -> (flags: [String], rest: Substring) {
        var flags = [String]()
        var rest = text.drop(while: { $0 == " " || $0 == "\t" })

        while rest.hasPrefix("--") {
            var word = ""
            var quote: Character?
            var index = rest.startIndex
            while index < rest.endIndex {
                let character = rest[index]
                if quote == nil && (character == " " || character == "\t") { break }
                if character == escape && quote != "'" {
                    index = rest.index(after: index)
                    if index < rest.endIndex {
                        word.append(rest[index])
                        index = rest.index(after: index)
                    }
                    continue
                }
                if let open = quote {
                    if character == open { quote = nil } else { word.append(character) }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else {
                    word.append(character)
                }
                index = rest.index(after: index)
            }
            rest = rest[index...].drop(while: { $0 == " " || $0 == "\t" })
            if word == "--" { break }
            flags.append(word)
        }
        return (flags, rest)
    }
}
