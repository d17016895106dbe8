import Foundation
import OCI
import Testing

@testable import Layering

/// Layers that try to write outside the directory they are applied to. The placeholder
/// OUTSIDE stands for the absolute path of a directory next to the root that contains `secret`.
@Suite("hostile layers")
struct HostileLayerTests {
    /// A symlink that resolves, inside the root, to a directory that does not exist there is
    /// not followed by a mkdir: the entry written through it fails and names itself.
    struct Case: CustomStringConvertible, Sendable {
        var label: String
        var entries: [TarSpec]
        /// The text the error names, or nil when the layer applies without escaping.
        var error: String?
        var description: String { label }
    }

    static let cases: [Case] = [
        Case(label: "dotdot file", entries: [.file("../outside/pwned")], error: "../outside/pwned"),
        Case(label: "dotdot inside path", entries: [.dir("a"), .file("a/../../outside/pwned")], error: "a/../../outside/pwned"),
        Case(label: "absolute symlink then file", entries: [.symlink("link", to: "OUTSIDE"), .file("link/pwned")], error: "link/pwned"),
        Case(
            label: "relative symlink then file",
            entries: [.symlink("up", to: "../../../../../../../.."), .file("up/OUTSIDE/pwned")], error: nil),
        Case(
            label: "symlink then overwrite",
            entries: [.symlink("secret", to: "OUTSIDE/secret"), .file("secret", "overwritten\n")], error: nil),
        Case(label: "hardlink with dotdot", entries: [.hardlink("stolen", to: "../outside/secret")], error: "stolen"),
        Case(label: "hardlink to absolute path", entries: [.hardlink("stolen", to: "OUTSIDE/secret")], error: "stolen"),
        Case(
            label: "hardlink through symlink",
            entries: [.symlink("door", to: "OUTSIDE"), .hardlink("stolen", to: "door/secret")], error: "stolen"),
        Case(
            label: "whiteout through symlink",
            entries: [.symlink("door", to: "OUTSIDE"), .file("door/.wh.secret", "")], error: "door/.wh.secret"),
        Case(
            label: "opaque whiteout through symlink",
            entries: [.symlink("door", to: "OUTSIDE"), .file("door/.wh..wh..opq", "")], error: "door/.wh..wh..opq"),
        Case(
            label: "symlink chain then file",
            entries: [.symlink("one", to: "two"), .symlink("two", to: "/../OUTSIDE"), .file("one/pwned")], error: "one/pwned"),
    ]

    @Test("hostile layer writes nothing outside", arguments: cases, [LayerUnpacker.Format.flattened, .overlay(xattrPrefix: "user.overlay.")])
    func writesNothingOutside(hostile: Case, format: LayerUnpacker.Format) throws {
        let work = try TemporaryDirectory("hostile")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("root")) \(work.sub("outside")) && printf 'secret\\n' > \(work.sub("outside"))/secret && printf 'sibling\\n' > \(work.sub("sibling"))")
        let entries = hostile.entries.map { spec in
            var spec = spec
            spec.name = spec.name.replacingOccurrences(of: "OUTSIDE", with: String(work.sub("outside").dropFirst()))
            spec.target = spec.target.replacingOccurrences(of: "OUTSIDE", with: work.sub("outside"))
            return spec
        }
        try makeTar(entries, at: work.sub("layer.tar"))
        let before = try listing(work.sub("outside"))

        do {
            _ = try unpack(work.sub("layer.tar"), into: work.sub("root"), options: .init(format: format))
            #expect(hostile.error == nil, "expected an error naming \(hostile.error ?? "")")
        } catch let error as LayeringError {
            let expected = try #require(hostile.error, "unexpected error: \(error)")
            #expect(error.description.contains("\"\(expected)\""), "\(error)")
        }

        #expect(try listing(work.sub("outside")) == before)
        #expect(try shell("cat \(work.sub("outside"))/secret") == "secret\n")
        #expect(try shell("cat \(work.sub("sibling"))") == "sibling\n")
        #expect(try TreeWalker.lstatus(Array((work.sub("outside") + "/secret").utf8)).st_nlink == 1)
        #expect(try shell("ls -A \(work.path)").split(separator: "\n").sorted() == ["layer.tar", "outside", "root", "sibling"])
    }

    @Test("file through absolute symlink lands inside root")
    func absoluteSymlinkResolvesInRoot() throws {
        let work = try TemporaryDirectory("inroot")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("root")) \(work.sub("root"))/target")
        try makeTar([.symlink("link", to: "/target"), .file("link/file", "inside\n")], at: work.sub("layer.tar"))
        _ = try unpack(work.sub("layer.tar"), into: work.sub("root"))
        #expect(try shell("cat \(work.sub("root"))/target/file") == "inside\n")
    }
}

@Suite("whiteouts")
struct WhiteoutTests {
    static let lower: [TarSpec] = [
        .dir("a"), .file("a/x"), .file("a/y"), .file("b"), .dir("c"), .file("c/d"), .file("c/keep"), .dir("e"), .file("e/f"),
    ]
    static let upper: [TarSpec] = [
        .file(".wh.b", ""), .file("a/.wh..wh..opq", ""), .file("a/z"), .file("c/.wh.d", ""), .file("new"),
        .file(".wh.new", ""), .file(".wh.e", ""),
    ]

    @Test("whiteouts delete lower files when flattened")
    func flattened() throws {
        let work = try TemporaryDirectory("whiteout")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("root"), withIntermediateDirectories: true)
        try makeTar(Self.lower, at: work.sub("lower.tar"))
        try makeTar(Self.upper, at: work.sub("upper.tar"))
        _ = try unpack(work.sub("lower.tar"), into: work.sub("root"))
        _ = try unpack(work.sub("upper.tar"), into: work.sub("root"))
        let files = try shell("cd \(work.sub("root")) && find . | sort").split(separator: "\n")
        #expect(files == [".", "./a", "./a/z", "./c", "./c/keep", "./new"])
    }

    @Test("whiteouts become overlay form", arguments: ["user.overlay.", "trusted.overlay."])
    func overlayForm(prefix: String) throws {
        if prefix.hasPrefix("trusted.") { try requireRoot() }
        try requireTools("getfattr")
        let work = try TemporaryDirectory("overlayform")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("root"), withIntermediateDirectories: true)
        try makeTar(Self.upper, at: work.sub("upper.tar"))
        _ = try unpack(work.sub("upper.tar"), into: work.sub("root"), options: .init(format: .overlay(xattrPrefix: prefix)))

        for whiteout in ["b", "c/d", "e"] {
            let status = try TreeWalker.lstatus(Array((work.sub("root") + "/" + whiteout).utf8))
            #expect(status.st_mode & S_IFMT == S_IFCHR, "\(whiteout)")
            #expect(status.st_rdev == 0, "\(whiteout)")
        }
        #expect(try TreeWalker.lstatus(Array((work.sub("root") + "/new").utf8)).st_mode & S_IFMT == S_IFREG)
        let opaque = try shell("getfattr --absolute-names --only-values -n \(prefix)opaque \(work.sub("root"))/a")
        #expect(opaque == "y")
        #expect(try shell("cd \(work.sub("root")) && find . -name '.wh.*'") == "")
    }
}

@Suite("replacing entries")
struct ReplacingEntryTests {
    @Test("later entries replace other types")
    func laterEntriesReplace() throws {
        let work = try TemporaryDirectory("replace")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("root"), withIntermediateDirectories: true)
        try makeTar([.dir("tree"), .file("tree/inner"), .file("plain"), .symlink("link", to: "plain")], at: work.sub("one.tar"))
        try makeTar([.file("tree", "now a file\n"), .dir("plain"), .file("plain/child"), .file("link", "no longer a link\n")], at: work.sub("two.tar"))
        _ = try unpack(work.sub("one.tar"), into: work.sub("root"))
        _ = try unpack(work.sub("two.tar"), into: work.sub("root"))
        #expect(try shell("cat \(work.sub("root"))/tree") == "now a file\n")
        #expect(try shell("cat \(work.sub("root"))/link") == "no longer a link\n")
        #expect(try shell("cd \(work.sub("root")) && find . | sort").split(separator: "\n") == [".", "./link", "./plain", "./plain/child", "./tree"])
    }

    @Test("root entry sets the root directory")
    func rootEntry() throws {
        let work = try TemporaryDirectory("rootentry")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("root"), withIntermediateDirectories: true)
        try shell("chmod 0700 \(work.sub("root"))")
        try makeTar([.dir("./"), .file("file")], at: work.sub("layer.tar"))
        _ = try unpack(work.sub("layer.tar"), into: work.sub("root"))
        #expect(try shell("stat -c %a \(work.sub("root"))") == "755\n")
        #expect(try shell("stat -c %Y \(work.sub("root"))") == "1000000000\n")
    }
}
