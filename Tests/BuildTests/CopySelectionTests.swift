import Foundation
import Testing

@testable import Build

/// A build context on disk for one test, removed when the test ends.
private final class ContextFixture {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("crib-copy-\(UUID().uuidString)").path
        let files = ["a.txt": "a", "b.log": "b", "dir/x.txt": "x", "dir/sub/y.txt": "y", "dir/skip.tmp": "t"]
        for (path, content) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "a.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/dir/inner-link", withDestinationPath: "../a.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/outside", withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: root + "/outside-dir", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: root + "/climb", withDestinationPath: "../../../../dir")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func select(
        _ sources: [String], _ destination: String, directory: Bool? = nil, ignore: String = "", excludes: [String] = [],
        parents: Bool = false
    ) throws -> [String] {
        let selection = try CopySelection(
            root: root, ignore: try DockerIgnore(parsing: ignore), excludes: excludes,
            location: SourceLocation(file: "Dockerfile", line: 3), keyword: "COPY")
        let items = try selection.items(
            sources: sources, destination: destination, destinationIsDirectory: directory ?? destination.hasSuffix("/"),
            keepingParents: parents)
        return items.map { item in
            switch item.kind {
            case .directory: return item.destination + "/"
            case .regularFile: return item.destination
            case .symlink(let target): return item.destination + " -> " + target
            }
        }
    }
}

struct CopySelectionTests {
    @Test func fileToFileAndDirectory() throws {
        let context = try ContextFixture()
        #expect(try context.select(["a.txt"], "/dest") == ["/dest"])
        #expect(try context.select(["a.txt"], "/dest/", directory: true) == ["/dest/a.txt"])
    }

    @Test func directoryCopiesContents() throws {
        let context = try ContextFixture()
        #expect(
            try context.select(["dir"], "/d")
                == ["/d/inner-link -> ../a.txt", "/d/skip.tmp", "/d/sub/", "/d/sub/y.txt", "/d/x.txt"])
    }

    @Test func ignoreRulesApply() throws {
        let context = try ContextFixture()
        #expect(try context.select(["dir"], "/d", ignore: "**/*.tmp\ndir/sub") == ["/d/inner-link -> ../a.txt", "/d/x.txt"])
        #expect(try context.select(["."], "/d/", ignore: "*\n!dir/x.txt") == ["/d/dir/x.txt"])
        #expect(try context.select(["dir"], "/d", excludes: ["*.tmp", "sub", "inner-link"]) == ["/d/x.txt"])
        #expect(try context.select(["*.txt", "*.log"], "/d/", excludes: ["*.log"]) == ["/d/a.txt"])
    }

    @Test func wildcardsMatchLikeNamedSources() throws {
        let context = try ContextFixture()
        #expect(try context.select(["*.txt"], "/d/") == ["/d/a.txt"])
        #expect(try context.select(["*.txt"], "/d") == ["/d"])
        #expect(try context.select(["dir/*"], "/d/") == ["/d/inner-link -> ../a.txt", "/d/skip.tmp", "/d/y.txt", "/d/x.txt"])
        #expect(try context.select(["?.*", "dir/x.txt"], "/d/") == ["/d/a.txt", "/d/b.log", "/d/x.txt"])
    }

    @Test func parentsKeepSourcePaths() throws {
        let context = try ContextFixture()
        #expect(try context.select(["dir/sub/y.txt", "a.txt"], "/d/", parents: true) == ["/d/dir/sub/y.txt", "/d/a.txt"])
        #expect(try context.select(["dir/s*"], "/d/", parents: true) == ["/d/dir/skip.tmp", "/d/dir/sub/y.txt"])
    }

    @Test func namedSymlinkIsFollowed() throws {
        let context = try ContextFixture()
        #expect(try context.select(["link"], "/d/") == ["/d/link"])
    }

    @Test func linksOnTheWayResolveInsideRoot() throws {
        let context = try ContextFixture()
        // `..` stops at the root, so the link climbing out lands on the context's own dir.
        #expect(try context.select(["climb/x.txt"], "/d/") == ["/d/x.txt"])
        #expect(try context.select(["climb"], "/d/") == ["/d/inner-link -> ../a.txt", "/d/skip.tmp", "/d/sub/", "/d/sub/y.txt", "/d/x.txt"])
        #expect(try context.select(["climb/sub"], "/d/", parents: true) == ["/d/climb/sub/y.txt"])
    }

    @Test(arguments: [
        (["outside"], "/d/", "Dockerfile:3: COPY source \"outside\" not found in the build context"),
        (["outside-dir/hostname"], "/d/", "Dockerfile:3: COPY source \"outside-dir/hostname\" not found in the build context"),
        (["missing"], "/d/", "Dockerfile:3: COPY source \"missing\" not found"),
        (["nothing*"], "/d/", "Dockerfile:3: COPY source \"nothing*\" matches no file"),
        (["b.log"], "/d/", "Dockerfile:3: COPY source \"b.log\" is excluded by the ignore rules"),
        (["a.txt", "dir/x.txt"], "/d", "Dockerfile:3: COPY copies more than one file, so the destination must be a directory"),
        (["*.txt", "dir/*.txt"], "/d", "Dockerfile:3: COPY copies more than one file"),
    ])
    func rejectsBadSources(sources: [String], destination: String, message: String) throws {
        let context = try ContextFixture()
        do {
            let items = try context.select(sources, destination, ignore: "*.log")
            Issue.record("selected \(items)")
        } catch {
            #expect("\(error)".hasPrefix(message), "got: \(error)")
        }
    }

    @Test func contentDigestFollowsContentNotTime() throws {
        let context = try ContextFixture()
        let selection = try CopySelection(
            root: context.root, ignore: DockerIgnore(), excludes: [], location: SourceLocation(file: "D", line: 1), keyword: "COPY")
        func digest() throws -> String {
            try CopySelection.contentDigest(selection.items(sources: ["dir"], destination: "/d", destinationIsDirectory: true)).description
        }
        let first = try digest()
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1000)], ofItemAtPath: context.root + "/dir/x.txt")
        #expect(try digest() == first)
        try "changed".write(toFile: context.root + "/dir/x.txt", atomically: false, encoding: .utf8)
        #expect(try digest() != first)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: context.root + "/dir/sub/y.txt")
        let afterChmod = try digest()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: context.root + "/dir/sub/y.txt")
        #expect(try digest() != afterChmod)
    }
}
