import Testing

@testable import Build

/// One parser case: Dockerfile text and the instructions the reference says it contains.
struct ParseCase: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    let expected: [Instruction.Kind]
    var testDescription: String { name }
}

/// A case whose text must fail to parse with a message naming the file, the line and the problem.
struct ParseErrorCase: CustomTestStringConvertible, Sendable {
    let text: String
    let message: String
    var testDescription: String { message }
}

private func kinds(_ text: String) throws -> [Instruction.Kind] {
    try DockerfileParser.parse(text).instructions.map(\.kind)
}

private let busybox = Instruction.Kind.from(.init(image: "busybox"))

struct DockerfileParserTests {
    static let cases: [ParseCase] = [
        ParseCase(
            name: "keywords are case-insensitive", text: "from busybox\nRun echo hi\nworkDir /app\n",
            expected: [busybox, .run(.init(command: .shell("echo hi"))), .workdir("/app")]),
        ParseCase(
            name: "FROM with platform and stage name",
            text: "FROM --platform=linux/amd64 debian:12 AS Builder\n",
            expected: [.from(.init(image: "debian:12", stageName: "builder", platform: "linux/amd64"))]),
        ParseCase(
            name: "comments and blank lines are dropped",
            text: "# a comment\n\n   # indented comment\nFROM busybox\n\n#RUN nothing\nUSER 1000\n",
            expected: [busybox, .user("1000")]),
        ParseCase(
            name: "continuation joins lines without the newline",
            text: "FROM busybox\nRUN echo a \\\n    b\n",
            expected: [busybox, .run(.init(command: .shell("echo a     b")))]),
        ParseCase(
            name: "comment and empty lines inside a continuation",
            text: "FROM busybox\nRUN apt-get update && \\\n# install it\n\n    apt-get install -y curl\n",
            expected: [busybox, .run(.init(command: .shell("apt-get update &&     apt-get install -y curl")))]),
        ParseCase(
            name: "blanks after the continuation character",
            text: "FROM busybox\nRUN echo a \\  \t\nb\n",
            expected: [busybox, .run(.init(command: .shell("echo a b")))]),
        ParseCase(
            name: "backtick escape directive",
            text: "# escape=`\nFROM busybox\nRUN echo C:\\path `\n  done\n",
            expected: [busybox, .run(.init(command: .shell("echo C:\\path   done")))]),
        ParseCase(
            name: "backslash is literal under the backtick escape",
            text: "# escape=`\nFROM busybox\nCOPY a\\ b\\\n",
            expected: [busybox, .copy(.init(isAdd: false, sources: [.path("a\\")], destination: "b\\"))]),
        ParseCase(
            name: "exec form is a JSON array",
            text: "FROM busybox\nRUN [\"/bin/echo\", \"a b\"]\nCMD [\"sh\", \"-c\", \"echo $HOME\"]\nENTRYPOINT [\"/init\"]\n",
            expected: [
                busybox, .run(.init(command: .exec(["/bin/echo", "a b"]))), .cmd(.exec(["sh", "-c", "echo $HOME"])),
                .entrypoint(.exec(["/init"])),
            ]),
        ParseCase(
            name: "invalid JSON falls back to shell form",
            text: "FROM busybox\nCMD ['single', 'quotes']\nENTRYPOINT [\"a\", 1]\n",
            expected: [busybox, .cmd(.shell("['single', 'quotes']")), .entrypoint(.shell("[\"a\", 1]"))]),
        ParseCase(
            name: "empty exec form CMD",
            text: "FROM busybox\nCMD []\n",
            expected: [busybox, .cmd(.exec([]))]),
        ParseCase(
            name: "ENV and LABEL in both forms",
            text: "FROM busybox\nENV A=1 B=\"two words\" C=three\\ words\nENV LEGACY value with  spaces\nLABEL \"com.example.v\"=\"1.0\" x=y\nLABEL key a value\n",
            expected: [
                busybox,
                .env([.init("A", "1"), .init("B", "\"two words\""), .init("C", "three\\ words")]),
                .env([.init("LEGACY", "value with  spaces")]),
                .label([.init("\"com.example.v\"", "\"1.0\""), .init("x", "y")]),
                .label([.init("key", "a value")]),
            ]),
        ParseCase(
            name: "ARG with and without defaults",
            text: "ARG BASE=busybox\nFROM $BASE\nARG A B=2 C=\"x y\"\n",
            expected: [
                .arg([.init(name: "BASE", defaultValue: "busybox")]), .from(.init(image: "$BASE")),
                .arg([.init(name: "A"), .init(name: "B", defaultValue: "2"), .init(name: "C", defaultValue: "\"x y\"")]),
            ]),
        ParseCase(
            name: "COPY with flags and several sources",
            text: "FROM busybox\nCOPY --from=build --chown=app:app --chmod=0755 --link a b/ /dest/\n",
            expected: [
                busybox,
                .copy(
                    .init(
                        isAdd: false, sources: [.path("a"), .path("b/")], destination: "/dest/", from: "build",
                        chown: "app:app", chmod: "0755", link: true)),
            ]),
        ParseCase(
            name: "COPY JSON form keeps spaces",
            text: "FROM busybox\nCOPY [\"my file\", \"/dest dir/\"]\n",
            expected: [
                busybox,
                .copy(.init(isAdd: false, sources: [.path("my file")], destination: "/dest dir/", isJSONForm: true)),
            ]),
        ParseCase(
            name: "ADD with checksum and excludes",
            text: "FROM busybox\nADD --checksum=sha256:abc --exclude=*.md --exclude=tmp https://example.test/x.tar /x\n",
            expected: [
                busybox,
                .copy(
                    .init(
                        isAdd: true, sources: [.path("https://example.test/x.tar")], destination: "/x",
                        excludes: ["*.md", "tmp"], checksum: "sha256:abc")),
            ]),
        ParseCase(
            name: "RUN flags",
            text: "FROM busybox\nRUN --mount=type=cache,target=/root/.cache --network=none --mount=type=tmpfs,target=/t make\n",
            expected: [
                busybox,
                .run(
                    .init(
                        command: .shell("make"), mounts: ["type=cache,target=/root/.cache", "type=tmpfs,target=/t"],
                        network: "none")),
            ]),
        ParseCase(
            name: "config instructions",
            text:
                "FROM busybox\nWORKDIR /a b\nUSER app:staff\nEXPOSE 80 443/tcp 53/udp\nVOLUME /data /cache\nVOLUME [\"/v\"]\nSTOPSIGNAL SIGINT\nSHELL [\"/bin/bash\", \"-c\"]\nMAINTAINER Jane <jane@example.test>\n",
            expected: [
                busybox, .workdir("/a b"), .user("app:staff"), .expose(["80", "443/tcp", "53/udp"]),
                .volume(["/data", "/cache"]), .volume(["/v"]), .stopSignal("SIGINT"), .shell(["/bin/bash", "-c"]),
                .maintainer("Jane <jane@example.test>"),
            ]),
        ParseCase(
            name: "HEALTHCHECK forms",
            text:
                "FROM busybox\nHEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1s --retries=3 CMD curl -f http://localhost/\nHEALTHCHECK cmd [\"true\"]\nHEALTHCHECK NONE\n",
            expected: [
                busybox,
                .healthcheck(
                    .init(
                        command: .shell("curl -f http://localhost/"), interval: 90_000_000_000, timeout: 500_000_000,
                        startPeriod: 2_000_000_000, startInterval: 1_000_000_000, retries: 3)),
                .healthcheck(.init(command: .exec(["true"]))),
                .healthcheck(.init(command: nil)),
            ]),
        ParseCase(
            name: "ONBUILD holds a parsed trigger",
            text: "FROM busybox\nONBUILD RUN echo built\n",
            expected: [
                busybox,
                .onbuild(
                    Instruction(
                        location: SourceLocation(file: "Dockerfile", line: 2), text: "RUN echo built",
                        kind: .run(.init(command: .shell("echo built"))))),
            ]),
        ParseCase(
            name: "CRLF line endings and a byte order mark",
            text: "\u{FEFF}FROM busybox\r\nUSER 1\r\n",
            expected: [busybox, .user("1")]),
    ]

    @Test(arguments: cases)
    func parsesForm(_ testCase: ParseCase) throws {
        #expect(try kinds(testCase.text) == testCase.expected)
    }

    @Test func locationsSpanContinuations() throws {
        let dockerfile = try DockerfileParser.parse(
            "# syntax=docker/dockerfile:1\n\nFROM busybox\nRUN a \\\n  b \\\n\n  c\nUSER x\n", file: "ctx/Containerfile")
        let lines = dockerfile.instructions.map { [$0.location.line, $0.location.endLine] }
        #expect(lines == [[3, 3], [4, 7], [8, 8]])
        #expect(dockerfile.instructions[1].location.description == "ctx/Containerfile:4")
        #expect(dockerfile.instructions[1].text == "RUN a   b   c")
    }

    @Test func directivesAreRead() throws {
        let dockerfile = try DockerfileParser.parse("#  Syntax = docker/dockerfile:1.7\n#escape=`\nFROM busybox\n")
        #expect(dockerfile.directives == ["syntax": "docker/dockerfile:1.7", "escape": "`"])
        #expect(dockerfile.escape == "`")
    }

    @Test(arguments: [
        ("# unknown=1\n# escape=`\nFROM busybox\n", "an unknown directive ends the directives"),
        ("# a comment\n# escape=`\nFROM busybox\n", "a comment ends the directives"),
        ("\n# escape=`\nFROM busybox\n", "an empty line ends the directives"),
        ("FROM busybox\n# escape=`\n", "after an instruction it is a comment"),
    ])
    func directiveIgnoredAfterOtherLines(text: String, reason: String) throws {
        let dockerfile = try DockerfileParser.parse(text)
        #expect(dockerfile.escape == "\\", "\(reason)")
        #expect(dockerfile.directives["escape"] == nil, "\(reason)")
    }

    @Test func stagesSplitAtFrom() throws {
        let dockerfile = try DockerfileParser.parse(
            "ARG V=1\nARG W\nFROM busybox AS one\nRUN a\nFROM one\nRUN b\nUSER c\n")
        #expect(dockerfile.globalArgs == [.init(name: "V", defaultValue: "1"), .init(name: "W")])
        #expect(dockerfile.stages.count == 2)
        #expect(dockerfile.stages[0].name == "one")
        #expect(dockerfile.stages[0].instructions.map(\.text) == ["RUN a"])
        #expect(dockerfile.stages[1].from.image == "one")
        #expect(dockerfile.stages[1].instructions.map(\.text) == ["RUN b", "USER c"])
        #expect(dockerfile.stages[1].displayName == "1")
    }

    static let errorCases: [ParseErrorCase] = [
        ParseErrorCase(text: "FROM busybox\n\n\n\n\n\nENV\n", message: "Dockerfile:7: ENV requires at least one argument"),
        ParseErrorCase(text: "FROM busybox\nENV A\n", message: "Dockerfile:2: ENV A requires a value"),
        ParseErrorCase(text: "FROM busybox\nENV A=1 B\n", message: "Dockerfile:2: ENV expects KEY=VALUE pairs, but \"B\" has no ="),
        ParseErrorCase(text: "FROM busybox\nLABEL =x\n", message: "Dockerfile:2: LABEL requires a name before ="),
        ParseErrorCase(text: "FROM busybox\nFOO bar\n", message: "Dockerfile:2: unknown instruction \"FOO\""),
        ParseErrorCase(text: "FROM a b\n", message: "Dockerfile:1: FROM requires either one or three arguments"),
        ParseErrorCase(text: "FROM a AS 1x\n", message: "Dockerfile:1: invalid stage name \"1x\""),
        ParseErrorCase(text: "FROM a AS x\nFROM b AS X\n", message: "Dockerfile:2: duplicate stage name \"x\", first used at Dockerfile:1"),
        ParseErrorCase(text: "RUN true\nFROM busybox\n", message: "Dockerfile:1: RUN before the first FROM"),
        ParseErrorCase(text: "# only a comment\n", message: "Dockerfile:1: the Dockerfile has no instructions"),
        ParseErrorCase(text: "ARG A\n", message: "Dockerfile:1: the Dockerfile has no FROM instruction"),
        ParseErrorCase(text: "FROM busybox\nCOPY onlyone\n", message: "Dockerfile:2: COPY requires at least two arguments"),
        ParseErrorCase(text: "FROM busybox\nCOPY --form=x a b\n", message: "Dockerfile:2: COPY does not accept the flag --form"),
        ParseErrorCase(text: "FROM busybox\nCOPY --from a b\n", message: "Dockerfile:2: COPY flag --from requires a value"),
        ParseErrorCase(text: "FROM busybox\nCOPY --from=a --from=b a b\n", message: "Dockerfile:2: COPY flag --from is given more than once"),
        ParseErrorCase(text: "FROM busybox\nCOPY --link=maybe a b\n", message: "Dockerfile:2: COPY flag --link expects true or false"),
        ParseErrorCase(text: "FROM busybox\nADD --from=x a b\n", message: "Dockerfile:2: ADD does not accept the flag --from"),
        ParseErrorCase(text: "FROM busybox\nENV --x=1 A=1\n", message: "Dockerfile:2: ENV does not accept the flag --x: it accepts no flags"),
        ParseErrorCase(text: "FROM busybox\nSHELL /bin/bash -c\n", message: "Dockerfile:2: SHELL requires a JSON array"),
        ParseErrorCase(text: "FROM busybox\nSHELL []\n", message: "Dockerfile:2: SHELL requires at least one argument"),
        ParseErrorCase(text: "FROM busybox\nRUN\n", message: "Dockerfile:2: RUN requires at least one argument"),
        ParseErrorCase(text: "FROM busybox\nWORKDIR\n", message: "Dockerfile:2: WORKDIR requires exactly one argument"),
        ParseErrorCase(text: "FROM busybox\nVOLUME [\"\"]\n", message: "Dockerfile:2: VOLUME paths cannot be empty strings"),
        ParseErrorCase(text: "FROM busybox\nHEALTHCHECK --retries=2 NONE\n", message: "Dockerfile:2: HEALTHCHECK NONE takes no other"),
        ParseErrorCase(text: "FROM busybox\nHEALTHCHECK RUN true\n", message: "Dockerfile:2: HEALTHCHECK expects CMD or NONE, got \"RUN\""),
        ParseErrorCase(text: "FROM busybox\nHEALTHCHECK --interval=10 CMD true\n", message: "Dockerfile:2: HEALTHCHECK --interval has an invalid duration \"10\""),
        ParseErrorCase(text: "FROM busybox\nHEALTHCHECK --timeout=10us CMD true\n", message: "Dockerfile:2: HEALTHCHECK --timeout must be 0 or at least 1ms"),
        ParseErrorCase(text: "FROM busybox\nHEALTHCHECK --retries=-1 CMD true\n", message: "Dockerfile:2: HEALTHCHECK --retries expects a whole number"),
        ParseErrorCase(text: "FROM busybox\nONBUILD ONBUILD RUN x\n", message: "Dockerfile:2: ONBUILD cannot trigger ONBUILD"),
        ParseErrorCase(text: "FROM busybox\nONBUILD from x\n", message: "Dockerfile:2: ONBUILD cannot trigger FROM"),
        ParseErrorCase(text: "# escape=x\nFROM busybox\n", message: "Dockerfile:1: invalid escape character \"x\""),
        ParseErrorCase(text: "# escape=`\n# escape=\\\nFROM busybox\n", message: "Dockerfile:2: the escape parser directive may appear only once"),
        ParseErrorCase(text: "FROM busybox\nRUN <<EOF\necho hi\n", message: "Dockerfile:2: heredoc <<EOF is not terminated"),
    ]

    @Test(arguments: errorCases)
    func rejectsWithLocation(_ testCase: ParseErrorCase) {
        do {
            let parsed = try DockerfileParser.parse(testCase.text)
            Issue.record("parsed without error: \(parsed.instructions.map(\.text))")
        } catch let error as BuildError {
            #expect(error.description.hasPrefix(testCase.message), "got: \(error.description)")
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func errorNamesTheFileAsGiven() {
        #expect(throws: BuildError.self) { try DockerfileParser.parse("FROM x\nENV\n", file: "images/Dockerfile.ubi") }
        do {
            _ = try DockerfileParser.parse("FROM x\nENV\n", file: "images/Dockerfile.ubi")
        } catch {
            #expect("\(error)" == "images/Dockerfile.ubi:2: ENV requires at least one argument")
        }
    }
}
