import Foundation
import Testing

@testable import Build

struct IgnoreCase: CustomTestStringConvertible, Sendable {
    let patterns: String
    let excluded: [String]
    let included: [String]
    var testDescription: String { patterns.replacingOccurrences(of: "\n", with: " | ") }
}

struct DockerIgnoreTests {
    static let cases: [IgnoreCase] = [
        IgnoreCase(patterns: "*/temp*", excluded: ["somedir/temporary.txt", "somedir/temp", "somedir/temp/x"], included: ["temp", "a/b/temp"]),
        IgnoreCase(patterns: "*/*/temp*", excluded: ["somedir/subdir/temporary.txt"], included: ["somedir/temp", "temp"]),
        IgnoreCase(patterns: "temp?", excluded: ["tempa", "tempb"], included: ["temp", "tempab", "a/tempa"]),
        IgnoreCase(patterns: "**/*.go", excluded: ["main.go", "a/b/c.go"], included: ["main.gox", "go"]),
        IgnoreCase(patterns: "*.md\n!README.md", excluded: ["CHANGES.md"], included: ["README.md", "docs/x.md"]),
        IgnoreCase(patterns: "*.md\n!README*.md\nREADME-secret.md", excluded: ["README-secret.md", "a.md"], included: ["README.md", "README-x.md"]),
        IgnoreCase(patterns: "*.md\nREADME-secret.md\n!README*.md", excluded: ["a.md"], included: ["README-secret.md", "README.md"]),
        IgnoreCase(patterns: "/foo/bar", excluded: ["foo/bar", "foo/bar/baz"], included: ["bar", "x/foo/bar"]),
        IgnoreCase(patterns: "./foo//bar/", excluded: ["foo/bar"], included: ["foo"]),
        IgnoreCase(patterns: "foo/../bar", excluded: ["bar"], included: ["foo/bar"]),
        IgnoreCase(patterns: "   spaced.txt   ", excluded: ["spaced.txt"], included: []),
        IgnoreCase(patterns: "# comment\n #notcomment", excluded: ["#notcomment"], included: ["# comment", "comment"]),
        IgnoreCase(patterns: "node_modules", excluded: ["node_modules", "node_modules/a/b.js"], included: ["src/node_modules"]),
        IgnoreCase(patterns: "*\n!src\n*.log", excluded: ["x", "a.log"], included: ["src", "src/main.swift", "src/a.log"]),
        IgnoreCase(patterns: "dir\n!dir/keep", excluded: ["dir", "dir/other"], included: ["dir/keep", "dir/keep/inner"]),
        IgnoreCase(patterns: "foo/**", excluded: ["foo/x", "foo/x/y"], included: ["foo", "foox"]),
        IgnoreCase(patterns: "**", excluded: ["a", "a/b"], included: []),
        IgnoreCase(patterns: "a/**/b", excluded: ["a/b", "a/x/b", "a/x/y/b"], included: ["ab", "a/xb"]),
        IgnoreCase(patterns: "[a-c]?.txt\n[^x]z", excluded: ["b1.txt", "yz"], included: ["d1.txt", "xz"]),
        IgnoreCase(patterns: "\\*.txt", excluded: ["*.txt"], included: ["a.txt"]),
        IgnoreCase(patterns: ".git\n!.gitignore", excluded: [".git/config"], included: [".gitignore", ".github/x"]),
    ]

    @Test(arguments: cases)
    func appliesRules(_ testCase: IgnoreCase) throws {
        let ignore = try DockerIgnore(parsing: testCase.patterns)
        for path in testCase.excluded {
            #expect(ignore.excludes(path), "\(path) should be excluded")
        }
        for path in testCase.included {
            #expect(!ignore.excludes(path), "\(path) should be included")
        }
    }

    @Test(arguments: [
        ("ok\n!\n", ".dockerignore:2: invalid pattern \"!\""),
        ("[abc", ".dockerignore:1: invalid pattern \"[abc\": a character class is not closed"),
        ("x\n[]a]", ".dockerignore:2: invalid pattern \"[]a]\""),
        ("[z-a]", ".dockerignore:1: invalid pattern \"[z-a]\": the class range z-a runs backwards"),
        ("trailing\\", ".dockerignore:1: invalid pattern \"trailing\\\""),
    ])
    func rejectsBadPattern(text: String, message: String) {
        do {
            _ = try DockerIgnore(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect("\(error)".hasPrefix(message), "got: \(error)")
        }
    }

    @Test func dockerfileIgnoreWins() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-ignore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "*.log\n".write(toFile: directory + "/.dockerignore", atomically: true, encoding: .utf8)
        try "*.tmp\n".write(toFile: directory + "/sub/Dockerfile.dev.dockerignore", atomically: true, encoding: .utf8)

        let (specific, specificPath) = try DockerIgnore.load(contextDirectory: directory, dockerfilePath: directory + "/sub/Dockerfile.dev")
        #expect(specificPath == directory + "/sub/Dockerfile.dev.dockerignore")
        #expect(specific.excludes("a.tmp"))
        #expect(!specific.excludes("a.log"))

        let (general, generalPath) = try DockerIgnore.load(contextDirectory: directory, dockerfilePath: directory + "/Dockerfile")
        #expect(generalPath == directory + "/.dockerignore")
        #expect(general.excludes("a.log"))
        #expect(!general.excludes("a.tmp"))
    }

    @Test(arguments: [
        ("*.txt", "a.txt", true), ("*.txt", "dir/a.txt", false), ("dir/*", "dir/a", true), ("a?c", "abc", true),
        ("a?c", "a/c", false), ("[[]x]", "[x]", true), ("[a-]", "-", false),
    ])
    func globMatchesLikeGo(pattern: String, path: String, matches: Bool) throws {
        if pattern == "[a-]" {
            // Go's filepath.Match rejects a range with no upper end.
            #expect(throws: GlobPattern.SyntaxError.self) { try GlobPattern(pattern) }
            return
        }
        #expect(try GlobPattern(pattern).matches(path) == matches)
    }

    @Test(arguments: [
        ("", "."), ("/", "/"), ("a//b/", "a/b"), ("./a/./b", "a/b"), ("a/../..", ".."), ("/../a", "/a"), ("a/b/../c", "a/c"),
    ])
    func cleansLikeGo(input: String, expected: String) {
        #expect(LexicalPath.clean(input) == expected)
    }
}
