/// A here-document that follows a RUN, COPY or ADD line: `<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<EOF`.
public struct Heredoc: Hashable, Sendable {
    /// The delimiter with its quotes removed; COPY and ADD use it as the file name.
    public let name: String
    /// The lines between the instruction and the delimiter, each ending in a newline, as written.
    public let rawContent: String
    /// False when the delimiter was quoted (`<<"EOF"`), which turns variable expansion off.
    public let expands: Bool
    /// True for `<<-`: leading tabs are stripped from the content lines and the delimiter.
    public let stripsTabs: Bool
    /// The file descriptor a RUN heredoc feeds (`3<<EOF`); nil means standard input.
    public let fileDescriptor: Int?
    /// The word as it appears on the instruction line, such as `<<-"EOF"`.
    public let word: String

    public init(name: String, rawContent: String, expands: Bool, stripsTabs: Bool, fileDescriptor: Int?, word: String) {
        self.name = name
        self.rawContent = rawContent
        self.expands = expands
        self.stripsTabs = stripsTabs
        self.fileDescriptor = fileDescriptor
        self.word = word
    }

    /// The content a COPY writes or a script runs: with `<<-`, each line loses its leading tabs.
    public var content: String {
        guard stripsTabs else { return rawContent }
        return rawContent.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.drop(while: { $0 == "\t" })) }
            .joined(separator: "\n")
    }
}
