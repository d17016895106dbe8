/// Where an instruction sits in a Dockerfile: the file as the user named it and the lines it spans.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    /// The 1-based line the instruction starts on.
    public let line: Int
    /// The last line of the instruction, its continuation lines and heredocs included.
    public let endLine: Int

    public init(file: String, line: Int, endLine: Int? = nil) {
        self.file = file
        self.line = line
        self.endLine = endLine ?? line
    }

    /// `Dockerfile:7`, the form compilers and buildkit use, so that editors can jump to it.
    public var description: String { "\(file):\(line)" }
}
