/// One instruction after the line scanner: continuation lines joined, comments inside them
/// dropped, and the bodies of its heredocs collected.
struct LogicalLine: Sendable {
    let location: SourceLocation
    let text: String
    let heredocs: [Heredoc]
}
