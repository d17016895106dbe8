import Foundation
import OCI
import Testing

@testable import Build

struct FileDigestCacheTests {
    @Test func rehashesOnlyChangedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-digests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/data"
        let cachePath = directory + "/cache/files.json"
        try "first".write(toFile: file, atomically: false, encoding: .utf8)

        let cache = FileDigestCache(path: cachePath, temporaryDirectory: directory + "/tmp")
        #expect(try cache.digest(ofFileAt: file) == Digest.sha256(Data("first".utf8)))
        try cache.save()
        #expect(FileManager.default.fileExists(atPath: cachePath))

        // Same size and the old mtime put back: the changed ctime still reveals the write.
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        Thread.sleep(forTimeInterval: 0.01)
        try "other".write(toFile: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: attributes[.modificationDate] as Any], ofItemAtPath: file)
        let reloaded = FileDigestCache(path: cachePath, temporaryDirectory: directory + "/tmp")
        #expect(try reloaded.digest(ofFileAt: file) == Digest.sha256(Data("other".utf8)))
    }

    @Test func reusesRecordedDigest() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crib-digests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/data"
        try "content".write(toFile: file, atomically: false, encoding: .utf8)
        let cachePath = directory + "/files.json"
        let cache = FileDigestCache(path: cachePath, temporaryDirectory: directory + "/tmp")
        _ = try cache.digest(ofFileAt: file)
        try cache.save()

        // A record whose digest was tampered with is returned as long as the stat matches,
        // which shows that the file is not read again.
        var text = try String(contentsOfFile: cachePath, encoding: .utf8)
        let real = Digest.sha256(Data("content".utf8)).encoded
        let fake = String(repeating: "0", count: 64)
        text = text.replacingOccurrences(of: real, with: fake)
        try text.write(toFile: cachePath, atomically: false, encoding: .utf8)
        let reloaded = FileDigestCache(path: cachePath, temporaryDirectory: directory + "/tmp")
        #expect(try reloaded.digest(ofFileAt: file).encoded == fake)
    }
}
