import Foundation
import OCI
import Testing

@testable import Layering

@Suite("layer diff", .serialized)
struct LayerDiffTests {
    static let setUp = """
        mkdir -p b d/sub r keep/deep
        printf 'a\\n' > a; printf 'c\\n' > b/c; printf 'e\\n' > d/sub/e; printf 'f\\n' > f; printf 'old\\n' > r/old
        printf 'deep\\n' > keep/deep/file; printf 'x\\n' > keep/x
        """
    static let changes = """
        printf 'changed\\n' > a
        rm b/c
        rm -r d
        mkdir -p g && printf 'h\\n' > g/h
        chmod 0600 f
        rm -r r && mkdir r && printf 'new\\n' > r/new
        printf 'more\\n' >> keep/deep/file
        """

    @Test("snapshot diff applied to the old tree gives the new one")
    func snapshotDiff() throws {
        let work = try TemporaryDirectory("snapdiff")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("tree")) && cd \(work.sub("tree")) && \(Self.setUp)")
        try shell("cp -a \(work.sub("tree")) \(work.sub("lower"))")
        let snapshot = try DirectorySnapshot.capture(work.sub("tree"))
        try shell("cd \(work.sub("tree")) && \(Self.changes)")

        let writer = try LayerWriter(sink: try FileSink(path: work.sub("layer")))
        try LayerDiff.addChanges(in: work.sub("tree"), since: snapshot, to: writer)
        _ = try writer.finish()
        let entries = try shell("tar -tzf \(work.sub("layer"))").split(separator: "\n")
        #expect(entries.contains(".wh.d"))
        #expect(entries.contains("b/.wh.c"))
        // ext4 often gives the new r the inode of the old one; then r/old gets its own whiteout.
        #expect(entries.contains("r/.wh..wh..opq") || entries.contains("r/.wh.old"))
        #expect(!entries.contains("keep/x"))
        #expect(entries.contains("keep/deep/file"))

        _ = try unpack(work.sub("layer"), into: work.sub("lower"))
        #expect(try listing(work.sub("lower")) == listing(work.sub("tree")))
    }

    @Test("overlay upper diff applied to the lower gives the merged tree")
    func overlayUpperDiff() throws {
        try requireRoot()
        let work = try TemporaryDirectory("upperdiff")
        defer {
            _ = try? shell("umount \(work.sub("merged")) 2>/dev/null")
            work.remove()
        }
        try shell("mkdir -p \(work.sub("lower")) \(work.sub("upper")) \(work.sub("work")) \(work.sub("merged"))")
        try shell("cd \(work.sub("lower")) && \(Self.setUp)")
        try shell("cp -a \(work.sub("lower")) \(work.sub("base"))")
        try shell(
            "mount -t overlay overlay -o lowerdir=\(work.sub("lower")),upperdir=\(work.sub("upper")),workdir=\(work.sub("work")) \(work.sub("merged"))")
        try shell("cd \(work.sub("merged")) && \(Self.changes)")
        let merged = try listing(work.sub("merged"))
        try shell("umount \(work.sub("merged"))")

        let writer = try LayerWriter(sink: try FileSink(path: work.sub("layer")))
        try LayerDiff.addOverlayUpper(work.sub("upper"), to: writer)
        _ = try writer.finish()
        let entries = try shell("tar -tzf \(work.sub("layer"))").split(separator: "\n")
        #expect(entries.contains(".wh.d"))
        #expect(entries.contains("r/.wh..wh..opq"))

        _ = try unpack(work.sub("layer"), into: work.sub("base"))
        #expect(try listing(work.sub("base")) == merged)
    }
}

@Suite("layer cache")
struct LayerCacheTests {
    @Test("layer unpacked once into overlay form")
    func unpackedOnce() throws {
        let work = try TemporaryDirectory("cache")
        defer { work.remove() }
        try makeTar([.dir("a"), .file("a/file"), .file(".wh.gone", ""), .file("a/.wh..wh..opq", "")], at: work.sub("layer.tar"))
        let diffID = Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: work.sub("layer.tar"))))
        let cache = LayerCache(root: RootDirectory(path: work.sub("root")), overlayXattrPrefix: "user.overlay.")

        var opened = 0
        for _ in 0..<2 {
            let directory = try cache.unpack(diffID: diffID) {
                opened += 1
                return try FileSource(path: work.sub("layer.tar"))
            }
            #expect(directory == work.sub("root") + "/layers/" + diffID.description)
        }
        #expect(opened == 1)
        let gone = try TreeWalker.lstatus(Array((cache.directory(for: diffID) + "/gone").utf8))
        #expect(gone.st_mode & S_IFMT == S_IFCHR)
        #expect(try shell("getfattr --only-values -n user.overlay.opaque \(cache.directory(for: diffID))/a") == "y")
        #expect(try shell("ls -A \(work.sub("root"))/tmp") == "")
    }

    @Test("wrong diffID leaves no layer behind")
    func wrongDiffID() throws {
        let work = try TemporaryDirectory("cachebad")
        defer { work.remove() }
        try makeTar([.file("file")], at: work.sub("layer.tar"))
        let wrong = Digest.sha256(Data("other".utf8))
        let cache = LayerCache(root: RootDirectory(path: work.sub("root")), overlayXattrPrefix: "user.overlay.")
        #expect(throws: LayeringError.self) {
            try cache.unpack(diffID: wrong) { try FileSource(path: work.sub("layer.tar")) }
        }
        #expect(!cache.contains(wrong))
        #expect(try shell("ls -A \(work.sub("root"))/tmp \(work.sub("root"))/layers") .contains("layer-") == false)
    }
}

@Suite("flattened copy and tarball layers")
struct FlattenAndTarballTests {
    @Test("flatten applies layers in order")
    func flattenInOrder() throws {
        let work = try TemporaryDirectory("flatten")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("tree"), withIntermediateDirectories: true)
        try makeTar([.dir("etc"), .file("etc/a", "one\n"), .file("etc/b")], at: work.sub("one.tar"))
        try makeTar([.file("etc/a", "two\n"), .file("etc/.wh.b", "")], at: work.sub("two.tar"))
        try LayerCache.flatten(
            [("one", { try FileSource(path: work.sub("one.tar")) }), ("two", { try FileSource(path: work.sub("two.tar")) })],
            into: work.sub("tree"))
        #expect(try shell("cd \(work.sub("tree")) && find . | sort").split(separator: "\n") == [".", "./etc", "./etc/a"])
        #expect(try shell("cat \(work.sub("tree"))/etc/a") == "two\n")
    }

    @Test("tarball with escaping entry is rejected", arguments: [
        [TarSpec.file("../escape")], [.dir("a"), .hardlink("a/link", to: "../../etc/passwd")],
    ])
    func escapingTarballRejected(entries: [TarSpec]) throws {
        let work = try TemporaryDirectory("tarball")
        defer { work.remove() }
        try makeTar(entries, at: work.sub("input.tar"))
        let sink = try FileSink(path: work.sub("layer"))
        do {
            _ = try TarballLayer.recompress(try FileSource(path: work.sub("input.tar")), name: "input.tar", to: sink, options: .init())
            Issue.record("expected an error naming \(entries.last!.name)")
        } catch let error as LayeringError {
            #expect(error.description.contains("\"\(entries.last!.name)\""), "\(error)")
        }
    }

    @Test("tarball keeps its tar bytes", arguments: ["cat", "gzip -c", "zstd -qc"])
    func tarballKeepsBytes(compressor: String) throws {
        let work = try TemporaryDirectory("tarbytes")
        defer { work.remove() }
        try makeTar([.dir("a"), .file("a/file", "content\n")], at: work.sub("input.tar"))
        try shell("\(compressor) \(work.sub("input.tar")) > \(work.sub("input"))")
        let result = try TarballLayer.recompress(
            try FileSource(path: work.sub("input")), name: "input", to: try FileSink(path: work.sub("layer")), options: .init(compression: .gzip))
        #expect(result.diffID == Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: work.sub("input.tar")))))
        try shell("gzip -dc \(work.sub("layer")) | cmp - \(work.sub("input.tar"))")
    }
}
