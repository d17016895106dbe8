import Testing

@testable import Build

struct ExpansionCase: CustomTestStringConvertible, Sendable {
    let input: String
    let expected: String
    var testDescription: String { input }
}

struct VariableExpanderTests {
    static let variables = ["FOO": "/bar", "EMPTY": "", "SPACED": "a  b", "PATH": "/usr/bin:/bin", "FILE": "archive.tar.gz"]

    static let wordCases: [ExpansionCase] = [
        .init(input: "$FOO", expected: "/bar"),
        .init(input: "${FOO}", expected: "/bar"),
        .init(input: "${FOO}_baz", expected: "/bar_baz"),
        .init(input: "$FOO_baz", expected: ""),
        .init(input: "pre-$FOO-post", expected: "pre-/bar-post"),
        .init(input: "$UNSET", expected: ""),
        .init(input: "${UNSET:-word}", expected: "word"),
        .init(input: "${EMPTY:-word}", expected: "word"),
        .init(input: "${FOO:-word}", expected: "/bar"),
        .init(input: "${UNSET-word}", expected: "word"),
        .init(input: "${EMPTY-word}", expected: ""),
        .init(input: "${UNSET:+word}", expected: ""),
        .init(input: "${EMPTY:+word}", expected: ""),
        .init(input: "${FOO:+word}", expected: "word"),
        .init(input: "${UNSET+word}", expected: ""),
        .init(input: "${EMPTY+word}", expected: "word"),
        .init(input: "${UNSET:-$FOO/x}", expected: "/bar/x"),
        .init(input: "${UNSET:-${ALSO:-deep}}", expected: "deep"),
        .init(input: "${UNSET:-\"a }\"}", expected: "a }"),
        .init(input: "${FOO:?must be set}", expected: "/bar"),
        .init(input: "${FILE#*.}", expected: "tar.gz"),
        .init(input: "${FILE##*.}", expected: "gz"),
        .init(input: "${FILE%.*}", expected: "archive.tar"),
        .init(input: "${FILE%%.*}", expected: "archive"),
        .init(input: "${PATH#/usr}", expected: "/bin:/bin"),
        .init(input: "\\$FOO", expected: "$FOO"),
        .init(input: "\\${FOO}", expected: "${FOO}"),
        .init(input: "a\\ b", expected: "a b"),
        .init(input: "'$FOO'", expected: "$FOO"),
        .init(input: "\"$FOO\"", expected: "/bar"),
        .init(input: "\"a \\\"q\\\" \\$FOO \\n\"", expected: "a \"q\" $FOO \\n"),
        .init(input: "'it''s'", expected: "its"),
        .init(input: "\"two  spaces\"", expected: "two  spaces"),
        .init(input: "keep  blanks", expected: "keep  blanks"),
        .init(input: "$", expected: "$"),
        .init(input: "a$ b", expected: "a$ b"),
        .init(input: "$1x", expected: "x"),
        .init(input: "100%", expected: "100%"),
    ]

    @Test(arguments: wordCases)
    func expandsWord(_ testCase: ExpansionCase) throws {
        #expect(try VariableExpander().expand(testCase.input, Self.variables) == testCase.expected)
    }

    @Test(arguments: [
        ExpansionCase(input: "`$FOO", expected: "$FOO"),
        ExpansionCase(input: "C:\\dir\\$FOO", expected: "C:\\dir\\/bar"),
        ExpansionCase(input: "\"`\"x`\"\"", expected: "\"x\""),
    ])
    func expandsWithBacktickEscape(_ testCase: ExpansionCase) throws {
        #expect(try VariableExpander(escape: "`").expand(testCase.input, Self.variables) == testCase.expected)
    }

    @Test func splitsWords() throws {
        let expander = VariableExpander()
        #expect(try expander.expandWords("80 $SPACED \"$SPACED\" ''", Self.variables) == ["80", "a", "b", "a  b", ""])
        #expect(try expander.expandWords("$UNSET 443/tcp", Self.variables) == ["443/tcp"])
        #expect(try expander.expandWords("x$SPACED", Self.variables) == ["xa", "b"])
    }

    @Test func heredocKeepsQuotes() throws {
        let expander = VariableExpander()
        let text = "echo \"hello ${FOO}\" '$FOO' \\$FOO\n"
        #expect(try expander.expandHeredoc(text, Self.variables) == "echo \"hello /bar\" '/bar' $FOO\n")
    }

    @Test(arguments: [
        ("${UNSET:?is required}", "UNSET: is required"),
        ("${EMPTY?}", ""),
        ("${UNSET?}", "UNSET: is not set"),
        ("${FOO", "missing its closing }"),
        ("${FOO:-x", "missing its closing }"),
        ("${}", "bad substitution"),
        ("${FOO/a/b}", "unsupported modifier \"/\""),
        ("'open", "a single quote is not closed"),
        ("\"open", "a double quote is not closed"),
    ])
    func rejectsBadSubstitution(input: String, message: String) {
        do {
            let value = try VariableExpander().expand(input, Self.variables)
            #expect(message.isEmpty, "expanded to \(value)")
        } catch {
            #expect(!message.isEmpty)
            #expect("\(error)".contains(message), "got: \(error)")
        }
    }
}
