import Testing

@testable import Build

private func heredoc(
    _ name: String, _ content: String, expands: Bool = true, stripsTabs: Bool = false, fd: Int? = nil, word: String
) -> Heredoc {
    Heredoc(name: name, rawContent: content, expands: expands, stripsTabs: stripsTabs, fileDescriptor: fd, word: word)
}

private let busybox = Instruction.Kind.from(.init(image: "busybox"))

struct HeredocTests {
    static let cases: [ParseCase] = [
        ParseCase(
            name: "RUN with one heredoc",
            text: "FROM busybox\nRUN <<EOF\nls /\nwhoami\nEOF\n",
            expected: [busybox, .run(.init(command: .shell("<<EOF"), heredocs: [heredoc("EOF", "ls /\nwhoami\n", word: "<<EOF")]))]),
        ParseCase(
            name: "heredoc body keeps comments, blank lines and backslashes",
            text: "FROM busybox\nRUN <<EOF\n# not a comment\n\necho a \\\nEOF\n",
            expected: [
                busybox,
                .run(.init(command: .shell("<<EOF"), heredocs: [heredoc("EOF", "# not a comment\n\necho a \\\n", word: "<<EOF")])),
            ]),
        ParseCase(
            name: "dash strips tabs from the delimiter line",
            text: "FROM busybox\nRUN <<-EOT\n\techo test\n\tEOT\n",
            expected: [
                busybox,
                .run(.init(command: .shell("<<-EOT"), heredocs: [heredoc("EOT", "\techo test\n", stripsTabs: true, word: "<<-EOT")])),
            ]),
        ParseCase(
            name: "quoted delimiters turn expansion off",
            text: "FROM busybox\nCOPY <<'A' <<\"B\" /dir/\n$x\nA\n$y\nB\n",
            expected: [
                busybox,
                .copy(
                    .init(
                        isAdd: false,
                        sources: [
                            .heredoc(heredoc("A", "$x\n", expands: false, word: "<<'A'")),
                            .heredoc(heredoc("B", "$y\n", expands: false, word: "<<\"B\"")),
                        ], destination: "/dir/")),
            ]),
        ParseCase(
            name: "COPY heredoc with flags and a normal source",
            text: "FROM busybox\nCOPY --chmod=755 <<EOF foo.txt /bar/\nthis is inline\nEOF\n",
            expected: [
                busybox,
                .copy(
                    .init(
                        isAdd: false, sources: [.heredoc(heredoc("EOF", "this is inline\n", word: "<<EOF")), .path("foo.txt")],
                        destination: "/bar/", chmod: "755")),
            ]),
        ParseCase(
            name: "command before the heredoc and an instruction after it",
            text: "FROM busybox\nRUN python3 <<EOF > /hello\nprint(1)\nEOF\nUSER x\n",
            expected: [
                busybox,
                .run(.init(command: .shell("python3 <<EOF > /hello"), heredocs: [heredoc("EOF", "print(1)\n", word: "<<EOF")])),
                .user("x"),
            ]),
        ParseCase(
            name: "file descriptor prefix",
            text: "FROM busybox\nRUN 3<<EOF cat /proc/self/fd/3\nhi\nEOF\n",
            expected: [
                busybox,
                .run(.init(command: .shell("3<<EOF cat /proc/self/fd/3"), heredocs: [heredoc("EOF", "hi\n", fd: 3, word: "3<<EOF")])),
            ]),
        ParseCase(
            name: "empty heredoc",
            text: "FROM busybox\nRUN <<EMPTY\nEMPTY\n",
            expected: [busybox, .run(.init(command: .shell("<<EMPTY"), heredocs: [heredoc("EMPTY", "", word: "<<EMPTY")]))]),
        ParseCase(
            name: "no heredoc in JSON form or in quotes",
            text: "FROM busybox\nRUN [\"<<EOF\"]\nRUN \"<<NOHEREDOC\"\nRUN cat <<<here\n",
            expected: [
                busybox, .run(.init(command: .exec(["<<EOF"]))), .run(.init(command: .shell("\"<<NOHEREDOC\""))),
                .run(.init(command: .shell("cat <<<here"))),
            ]),
        ParseCase(
            name: "no heredoc for other instructions",
            text: "FROM busybox\nENV A=<<EOF\nUSER x\n",
            expected: [busybox, .env([.init("A", "<<EOF")]), .user("x")]),
    ]

    @Test(arguments: cases)
    func parsesHeredoc(_ testCase: ParseCase) throws {
        #expect(try DockerfileParser.parse(testCase.text).instructions.map(\.kind) == testCase.expected)
    }

    @Test func locationCoversBody() throws {
        let dockerfile = try DockerfileParser.parse("FROM busybox\nCOPY <<A <<B /d/\n1\nA\n2\nB\nUSER x\n")
        #expect(dockerfile.instructions[1].location.line == 2)
        #expect(dockerfile.instructions[1].location.endLine == 6)
        #expect(dockerfile.instructions[2].location.line == 7)
    }

    @Test func dashContentLosesLeadingTabs() {
        let doc = heredoc("E", "\t\tone\n\ttwo\n  three\n", stripsTabs: true, word: "<<-E")
        #expect(doc.content == "one\ntwo\n  three\n")
    }
}
