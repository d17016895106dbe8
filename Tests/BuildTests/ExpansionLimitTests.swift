import Foundation
import Testing

@testable import Build

/// Variable expansion on hostile Dockerfiles: values that grow on every line and pattern
/// removals on long values must end with an error naming the line, in bounded time.
struct ExpansionLimitTests {
    struct Hostile: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        /// The line the error must name, as "Dockerfile:LINE".
        let line: Int
        var testDescription: String { name }
    }

    static let doubling = "FROM scratch\nENV A=0123456789abcdef\n" + String(repeating: "ENV A=$A$A\n", count: 20)

    static let hostile: [Hostile] = [
        // 16 bytes doubled 17 times pass 1 MiB on the 17th doubling line, line 19.
        Hostile(name: "value doubled on every line", text: doubling, line: 19),
        // 3 bytes tripled 12 times pass 1 MiB on line 14.
        Hostile(name: "value tripled inside quotes", text: "FROM scratch\nENV A=abc\n" + String(repeating: "ENV A=\"$A$A$A\"\n", count: 15), line: 14),
    ]

    @Test(arguments: hostile)
    func hostileExpansionFailsNamingLine(_ testCase: Hostile) throws {
        #expect(!testCase.text.isEmpty)
        let dockerfile = try DockerfileParser.parse(testCase.text)
        let planner = BuildPlanner(dockerfile: dockerfile) { _, _ in ImageSettings() }
        #expect {
            _ = try planner.plan()
        } throws: { error in
            return "\(error)".contains("Dockerfile:\(testCase.line):")
        }
    }

    /// Inputs on which fuzz/run.sh dockerfile found a hang, base64 encoded. Planning must
    /// return, with a plan or with an error naming a line.
    static let fuzzerFindings = [
        // ENV lines that repeat $A, then ${A%…} on the long result: each prefix and suffix was
        // matched on its own, in time quadratic in the value's length.
        "QVJHIEJBUwU9ZGViaWFuCkZST00g//cIqwpFTlYgQT0ke0FHIEJBUwU9ZGViaWFuCkZST00g//cIqwpFTlYgQT0ke0ElxtSMmtEAAAQAAAAASE9NRX1dJEF7QlNFOi14//97QTqrCkVOViBBPSR7QSU6K3NlLwAAAAAAAABIT01FfV0kQXtCU0U6LXj//3tBOqsKRU5WIEE9JHtBJTorc2UvAAAAAAAAAEhPTUV9XSRBe0JTRToteP//e0E6qwpFTlYgQT0ke0ElOitzZS8AAAAAAAAASE9NRX1dJEF7QlNFOi14//97QTorra2tra2tQQFFMi1NfT0lxtSMmtEAAAQAAAAASE9NRX1dJEF7QlNFOi14//97QTqrCkVOViBBPSR7QSU6K3NlLwAAOgAAAAAASE9NRX1dJEF7QlNFrUV9XX0wXf8D/wirCkVOViBBPSR7QTorc2UvAAAAAAAAAEBPTa2tra2tra0ASE9NRX1dJEH//////////////62trU1FfV0kQXtCU0U6LXj//3tBOiutra2tra2tra2tra2tra2tra2tra2tra2trUU6RX1dJEF7QlNFOi14//97QTqrCkVOViBBPSR7QSU6K3NlLwAAOgAAAAAASE9NRX1de0E6qwpFTlYgQT0ke0ElOitzZS8AAAAAAAAASE9NRX1dJEF7QlNFOi14//97QTorra2tra2tQQFFMi1NfT0lxtSMmtEAAAQAAAAASE9NRX1dJEF7QlNFOi14//97QTqrCkVOViBBPSR7QSU6K3NlLwAAOgAAAAAASE9NRX1dJEF7QlNFrUV9XX0wXf8D/wirCkVOViBBPSR7QTorc2UvAAAAAAAAAEBPTa2tra2tra0ASE9NRX1dJEH//////////////62trU1FfV0kQXtCU0U6LXj//3tBOiutra2tra2tra2tra2tra2tra2tra2tra2trUU6RX1dJEF7QlNFOi14//97QTqrCkVOViBBPSR7QSU6K3NlLwAAOgAAAAAASE9NRX1dJEF7QlNFrUV9XX0wXf8D/wirCkVOViBBPSR7QTorc2UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC8AAAAAAAAAQE9Nra2tra2trQBIT01FfV0kQf////////8teP//e0E6qzoteP//e0E6K62tra2trUEBRTItTX09JcbUjJrRAAAEAAAAAEhPTUV9XSRBe0JTRToteP//e0E6qwpFTlYgQT0ke0ElOitzZS8AADoAAAAAAEhPTUV9XSRBe0JTRa1FfV19MF3/A/8IqwpFTlYgQT0ke0E6K3NlLwAAAAAAAABAT02tra2tra2tAEhPTUV9XSRB//////////////+tra2tra2tra2tra2tra2tra2tra2Nra2tra1FfV19MF3/A/8IqwpFTlYgQT0ke0E6K3NlLwAAAAAAAABAT02tra2tra2tra2trUV9XQo=",
    ]

    @Test(arguments: fuzzerFindings)
    func fuzzerFindingPlansOrFails(_ encoded: String) throws {
        let data = try #require(Data(base64Encoded: encoded))
        let dockerfile = try DockerfileParser.parse(String(decoding: data, as: UTF8.self))
        let planner = BuildPlanner(dockerfile: dockerfile) { _, _ in ImageSettings() }
        do {
            _ = try planner.plan()
        } catch {
            #expect("\(error)".contains("Dockerfile:"), "\(error)")
        }
    }

    struct Removal: Sendable {
        let input: String
        let expected: String
    }

    /// Pattern removals with several wildcards, checked against what dash and bash print.
    @Test(arguments: [
        Removal(input: "${V#*.*.}", expected: "c.d"),
        Removal(input: "${V##*.*.}", expected: "d"),
        Removal(input: "${V%.*.*}", expected: "a.b"),
        Removal(input: "${V%%.*.*}", expected: "a"),
        Removal(input: "${V#[a-b].}", expected: "b.c.d"),
        Removal(input: "${V#[^a].}", expected: "a.b.c.d"),
        Removal(input: "${V%?}", expected: "a.b.c."),
        Removal(input: "${V%%?.?}", expected: "a.b."),
        Removal(input: "${V#*}", expected: "a.b.c.d"),
        Removal(input: "${V##*}", expected: ""),
        Removal(input: "${V%*}", expected: "a.b.c.d"),
        Removal(input: "${V%%*}", expected: ""),
        Removal(input: "${V%x*}", expected: "a.b.c.d"),
        Removal(input: "${V#a.b.c.d}", expected: ""),
        Removal(input: "${V%%b*c}", expected: "a.b.c.d"),
        Removal(input: "${V%b*}", expected: "a."),
    ])
    func patternRemovalWithWildcards(_ removal: Removal) throws {
        #expect(try VariableExpander().expand(removal.input, ["V": "a.b.c.d"]) == removal.expected)
    }

    @Test func longValueAndPatternAreRejected() throws {
        let value = String(repeating: "a", count: 1 << 19)
        let pattern = String(repeating: "?", count: 1 << 10)
        #expect {
            _ = try VariableExpander().expand("${V%\(pattern)x}", ["V": value])
        } throws: { error in
            "\(error)".contains("too long to match")
        }
        // A short pattern on the same value is fine.
        #expect(try VariableExpander().expand("${V%a}", ["V": value]).count == value.count - 1)
    }
}
