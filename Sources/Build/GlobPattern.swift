/// A file name pattern in the syntax of Go's `filepath.Match`, which COPY sources and
/// .dockerignore lines use: `*` and `?` match anything but `/`, `[a-z]` and `[^a-z]` are
/// character classes, and the escape character takes the next character literally.
/// With `allowsDoubleStar`, `**` matches any number of directories, including none, as in
/// .dockerignore.
public struct GlobPattern: Hashable, Sendable, CustomStringConvertible {
    enum Token: Hashable, Sendable {
        case literal(Character)
        /// `*`: any run of characters other than the separator.
        case star
        /// `?`: one character other than the separator.
        case single
        case characterClass(negated: Bool, ranges: [ClosedRange<Character>])
        /// `**` before more pattern text: nothing, or anything that ends with a separator.
        case directories
        /// `**` at the end: anything at all.
        case anything
    }

    public let pattern: String
    let tokens: [Token]
    /// The character `*` and `?` do not match; nil lets them match everything, as in the
    /// shell patterns of `${VAR#pattern}`.
    let separator: Character?

    public var description: String { pattern }

    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Compiles `pattern`; throws when a class is not closed, empty or runs backwards, or
    /// the pattern ends with the escape character, as `filepath.Match` rejects those.
    public init(_ pattern: String, allowsDoubleStar: Bool = false, separator: Character? = "/", escape: Character = "\\") throws {
        self.pattern = pattern
        self.separator = separator
        var tokens = [Token]()
        let characters = Array(pattern)
        var index = 0

        func escaped(_ context: String) throws -> Character {
            index += 1
            guard index < characters.count else {
                throw SyntaxError(description: "the \(context) ends with the escape character \(escape)")
            }
            return characters[index]
        }

        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                if allowsDoubleStar, index + 1 < characters.count, characters[index + 1] == "*" {
                    index += 2
                    if index < characters.count, characters[index] == separator { index += 1 }
                    tokens.append(index == characters.count ? .anything : .directories)
                    continue
                }
                tokens.append(.star)
            case "?":
                tokens.append(.single)
            case "[":
                index += 1
                var negated = false
                if index < characters.count, characters[index] == "^" {
                    negated = true
                    index += 1
                }
                var ranges = [ClosedRange<Character>]()
                while true {
                    guard index < characters.count else {
                        throw SyntaxError(description: "a character class is not closed with ]")
                    }
                    if characters[index] == "]" && !ranges.isEmpty { break }
                    guard characters[index] != "]" && characters[index] != "-" else {
                        throw SyntaxError(description: "a character class starts with \(characters[index])")
                    }
                    var low = characters[index]
                    if low == escape { low = try escaped("class") }
                    var high = low
                    if index + 2 < characters.count, characters[index + 1] == "-", characters[index + 2] != "]" {
                        index += 2
                        high = characters[index]
                        if high == escape { high = try escaped("class") }
                        guard low <= high else {
                            throw SyntaxError(description: "the class range \(low)-\(high) runs backwards")
                        }
                    }
                    ranges.append(low...high)
                    index += 1
                }
                tokens.append(.characterClass(negated: negated, ranges: ranges))
            case escape:
                tokens.append(.literal(try escaped("pattern")))
            default:
                tokens.append(.literal(character))
            }
            index += 1
        }
        self.tokens = tokens
    }

    /// Whether `text` matches the whole pattern.
    public func matches(_ text: String) -> Bool {
        let characters = Array(text)
        var failed = Set<Int>()
        return match(tokenIndex: 0, characters: characters, position: 0, failed: &failed)
    }

    /// Whether the pattern contains `*`, `?` or a class, so that it can name more than one path.
    public var hasWildcards: Bool {
        tokens.contains { if case .literal = $0 { return false } else { return true } }
    }

    /// Returns the shortest or longest prefix of `text` that the pattern matches, for `${VAR#p}`.
    func matchingPrefixLength(of text: String, longest: Bool) -> Int? {
        let ends = Self.matchingPrefixes(of: Array(text), tokens: tokens, separator: separator)
        return longest ? ends.lastIndex(of: true) : ends.firstIndex(of: true)
    }

    /// Returns the shortest or longest suffix of `text` that the pattern matches, for `${VAR%p}`.
    func matchingSuffixLength(of text: String, longest: Bool) -> Int? {
        // A suffix of the text matches the pattern exactly when the reversed suffix matches the
        // reversed pattern, which holds for every token but `**` before more text.
        guard !tokens.contains(.directories) else {
            let characters = Array(text)
            let lengths = longest ? Array((0...characters.count).reversed()) : Array(0...characters.count)
            return lengths.first { matches(String(characters[(characters.count - $0)...])) }
        }
        let ends = Self.matchingPrefixes(of: Array(text.reversed()), tokens: tokens.reversed(), separator: separator)
        return longest ? ends.lastIndex(of: true) : ends.firstIndex(of: true)
    }

    /// Returns the number of steps a prefix or suffix match on `text` takes, because it keeps
    /// one flag per position of `text` for each token.
    func matchingCost(of text: String) -> Int {
        (tokens.count + 1) * (text.count + 1)
    }

    /// Returns, for each length from 0 to `characters.count`, whether the prefix of that length
    /// matches `tokens`. It tracks the set of positions each token can end at, so the whole
    /// call takes tokens times characters steps, as one call of `matches` does.
    private static func matchingPrefixes(of characters: [Character], tokens: [Token], separator: Character?) -> [Bool] {
        let count = characters.count
        var active = [Bool](repeating: false, count: count + 1)
        active[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: count + 1)
            switch token {
            case .literal(let expected):
                for position in 0..<count where active[position] && characters[position] == expected {
                    next[position + 1] = true
                }
            case .single:
                for position in 0..<count where active[position] && characters[position] != separator {
                    next[position + 1] = true
                }
            case .characterClass(let negated, let ranges):
                for position in 0..<count where active[position] {
                    let inClass = ranges.contains { $0.contains(characters[position]) }
                    if inClass != negated { next[position + 1] = true }
                }
            case .star:
                // A run of non-separators extends every active position forwards.
                for position in 0...count {
                    next[position] = active[position]
                        || (position > 0 && next[position - 1] && characters[position - 1] != separator)
                }
            case .directories:
                // Nothing, or any text that ends with a separator, after an active position.
                var seenActive = false
                for position in 0...count {
                    if position > 0 {
                        seenActive = seenActive || active[position - 1]
                        if seenActive && characters[position - 1] == (separator ?? "/") { next[position] = true }
                    }
                    if active[position] { next[position] = true }
                }
            case .anything:
                var seenActive = false
                for position in 0...count {
                    seenActive = seenActive || active[position]
                    next[position] = seenActive
                }
            }
            active = next
        }
        return active
    }

    // Backtracking matcher. `failed` remembers (token, position) pairs known not to match, so
    // patterns with several stars stay linear in practice instead of exponential.
    private func match(tokenIndex: Int, characters: [Character], position: Int, failed: inout Set<Int>) -> Bool {
        let key = tokenIndex * (characters.count + 1) + position
        if failed.contains(key) { return false }

        guard tokenIndex < tokens.count else { return position == characters.count }
        var result = false
        switch tokens[tokenIndex] {
        case .literal(let expected):
            result = position < characters.count && characters[position] == expected
                && match(tokenIndex: tokenIndex + 1, characters: characters, position: position + 1, failed: &failed)
        case .single:
            result = position < characters.count && characters[position] != separator
                && match(tokenIndex: tokenIndex + 1, characters: characters, position: position + 1, failed: &failed)
        case .characterClass(let negated, let ranges):
            if position < characters.count {
                let inClass = ranges.contains { $0.contains(characters[position]) }
                result = inClass != negated
                    && match(tokenIndex: tokenIndex + 1, characters: characters, position: position + 1, failed: &failed)
            }
        case .star:
            var end = position
            while true {
                if match(tokenIndex: tokenIndex + 1, characters: characters, position: end, failed: &failed) {
                    result = true
                    break
                }
                guard end < characters.count, characters[end] != separator else { break }
                end += 1
            }
        case .directories:
            // Either nothing, or any text up to and including a separator.
            if match(tokenIndex: tokenIndex + 1, characters: characters, position: position, failed: &failed) {
                result = true
            } else {
                var end = position
                while end < characters.count {
                    if characters[end] == (separator ?? "/"),
                        match(tokenIndex: tokenIndex + 1, characters: characters, position: end + 1, failed: &failed)
                    {
                        result = true
                        break
                    }
                    end += 1
                }
            }
        case .anything:
            result = true
        }
        if !result { failed.insert(key) }
        return result
    }
}
