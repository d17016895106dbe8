import Foundation
import OCI
import Testing

@testable import Build

struct BuildCacheTests {
    @Test func keysChainAndDiffer() {
        let base = BuildCache.baseKey(base: "sha256:aa", layerSettings: "gzip")
        let first = BuildCache.key(parent: base, summary: "RUN /bin/sh -c make", content: nil)
        #expect(first == BuildCache.key(parent: base, summary: "RUN /bin/sh -c make", content: nil))
        #expect(first != BuildCache.key(parent: base, summary: "RUN /bin/sh -c make all", content: nil))
        #expect(first != BuildCache.key(parent: BuildCache.baseKey(base: "sha256:bb", layerSettings: "gzip"), summary: "RUN /bin/sh -c make", content: nil))
        #expect(base != BuildCache.baseKey(base: "sha256:aa", layerSettings: "zstd"))
        let content = Digest.sha256(Data("a".utf8))
        #expect(
            BuildCache.key(parent: base, summary: "COPY a /a", content: content)
                != BuildCache.key(parent: base, summary: "COPY a /a", content: Digest.sha256(Data("b".utf8))))
    }

    @Test func recordsAndFindsEntries() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = RootDirectory(path: directory)
        let store = try ContentStore(root: root)
        let cache = BuildCache(root: root)

        let blob = try store.writeBlob(Data("layer bytes".utf8), mediaType: .ociLayer)
        let entry = BuildCache.Entry(layer: blob, diffID: blob.digest, createdBy: "/bin/sh -c true")
        let key = BuildCache.key(parent: BuildCache.baseKey(base: "scratch", layerSettings: "none"), summary: "RUN true", content: nil)
        #expect(cache.lookup(key, in: store) == nil)

        try cache.record(key, entry)
        #expect(cache.lookup(key, in: store) == entry)

        // An entry whose layer is gone from the store must not be used.
        let missing = Descriptor(mediaType: .ociLayer, digest: Digest.sha256(Data("gone".utf8)), size: 4)
        let otherKey = BuildCache.key(parent: key, summary: "RUN false", content: nil)
        try cache.record(otherKey, BuildCache.Entry(layer: missing, diffID: missing.digest, createdBy: "x"))
        #expect(cache.lookup(otherKey, in: store) == nil)
    }
}
