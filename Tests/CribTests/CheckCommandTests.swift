import Foundation
import OCI
import Testing

struct CheckCommandTests {
    /// Writes an image whose one layer differs from the sample's, so that damage to one leaves the other whole.
    @discardableResult
    func writeOtherImage(root: String, name: String) throws -> StoredImage {
        let store = try ContentStore(root: RootDirectory(path: root))
        let layer = try store.writeBlob(tarArchive(name: "other", content: Data("other\n".utf8)), mediaType: .ociLayer)
        return try store.commitImage(config: ImageConfig(diffIDs: [layer.digest]), layers: [layer], names: [name])
    }

    func blobPath(_ fixture: CribFixture, _ digest: Digest) -> String {
        fixture.root + "/store/blobs/sha256/" + digest.encoded
    }

    @Test func soundStoreChecksClean() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        // An unpacked layer that the image uses is sound.
        let used = fixture.root + "/layers/" + image.config.rootfs.diffIDs[0].description
        try FileManager.default.createDirectory(atPath: used, withIntermediateDirectories: true)

        let result = try fixture.crib(["check"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasPrefix("checked 3 blobs ("), "\(result.stdout)")
        #expect(result.stdout.hasSuffix(" and 1 image: no problems\n"), "\(result.stdout)")

        let json = try fixture.crib(["check", "--format", "json"])
        #expect(json.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["sound"] as? Bool == true)
        #expect(report?["checkedBlobs"] as? Int == 3)
        #expect((report?["problems"] as? [Any])?.isEmpty == true)
    }

    @Test func flippedLayerByteIsRepairedKeepingSoundImage() throws {
        let fixture = try CribFixture()
        let damaged = try writeSampleImage(root: fixture.root, name: "hello")
        let sound = try writeOtherImage(root: fixture.root, name: "other")
        let layer = damaged.manifest.layers[0].digest
        let soundBlobs = [sound.digest, sound.manifest.config.digest, sound.manifest.layers[0].digest]
        let before = try soundBlobs.map { try Data(contentsOf: URL(fileURLWithPath: blobPath(fixture, $0))) }

        let path = blobPath(fixture, layer)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[0] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let actual = Digest.sha256(bytes)

        let check = try fixture.crib(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("corrupt blob \(layer): content hashes to \(actual)\n"), "\(check.stdout)")
        #expect(check.stdout.contains("damaged image localhost/hello:latest: layer \(layer) is corrupt\n"), "\(check.stdout)")
        #expect(FileManager.default.fileExists(atPath: path), "check without --repair removed the blob")
        #expect(check.stdout.contains("2 problems\nrun crib check --repair to remove what cannot be trusted"), "\(check.stdout)")

        let repair = try fixture.crib(["check", "--repair"])
        #expect(repair.status == 1)
        #expect(repair.stdout.contains("corrupt blob \(layer): content hashes to \(actual) (removed)"), "\(repair.stdout)")
        #expect(repair.stdout.contains("damaged image localhost/hello:latest: layer \(layer) is corrupt (removed)"), "\(repair.stdout)")
        #expect(!FileManager.default.fileExists(atPath: path))

        let after = try soundBlobs.map { try Data(contentsOf: URL(fileURLWithPath: blobPath(fixture, $0))) }
        #expect(after == before)
        let store = try ContentStore(root: RootDirectory(path: fixture.root))
        #expect(try store.images().map(\.names) == [["localhost/other:latest"]])
        let inspect = try fixture.crib(["inspect", "other"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains(sound.digest.description))

        let again = try fixture.crib(["check"])
        #expect(again.status == 0, "\(again.stdout)")
    }

    @Test func missingConfigNamesImageAndConfig() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        try FileManager.default.removeItem(atPath: blobPath(fixture, image.manifest.config.digest))

        let check = try fixture.crib(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("damaged image localhost/hello:latest: config \(image.manifest.config.digest) is missing"), "\(check.stdout)")

        #expect(try fixture.crib(["check", "--repair"]).status == 1)
        let store = try ContentStore(root: RootDirectory(path: fixture.root))
        #expect(try store.images().isEmpty)
        #expect(try fixture.crib(["check"]).status == 0)
    }

    @Test func strayFileInBlobsIsReportedAndRemoved() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "hello")
        let stray = fixture.root + "/store/blobs/sha256/notes.txt"
        try Data("x".utf8).write(to: URL(fileURLWithPath: stray))

        let check = try fixture.crib(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("stray file \(stray): name is not a sha256 digest"), "\(check.stdout)")

        #expect(try fixture.crib(["check", "--repair"]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: stray))
        #expect(try fixture.crib(["inspect", "hello"]).status == 0)
        #expect(try fixture.crib(["check"]).status == 0)
    }

    @Test func temporaryLeftoverIsRemovedWhenNoOneHoldsTheStore() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "hello")
        let leftover = fixture.root + "/tmp/blob-interrupted"
        let directory = fixture.root + "/tmp/layer-interrupted"

        // While another process uses the store, its files in tmp/ are work in progress.
        do {
            let writer = try ContentStore(root: RootDirectory(path: fixture.root))
            try writer.holdForWriting()
            try Data("partial".utf8).write(to: URL(fileURLWithPath: leftover))
            try FileManager.default.createDirectory(atPath: directory + "/etc", withIntermediateDirectories: true)
            let whileHeld = try fixture.crib(["check", "--repair"])
            #expect(whileHeld.status == 0, "\(whileHeld.stdout)")
            #expect(FileManager.default.fileExists(atPath: leftover))
            #expect(FileManager.default.fileExists(atPath: directory))
        }

        // Once no process uses the store, opening it removes what a killed process left, so the
        // check finds nothing and reports what was removed.
        let check = try fixture.crib(["check"])
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stderr.contains("removed 2 leftovers of interrupted crib processes from \(fixture.root)/tmp"), "\(check.stderr)")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(try fixture.crib(["inspect", "hello"]).status == 0)
    }

    @Test func indexReferencingMissingManifestIsReported() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        try writeOtherImage(root: fixture.root, name: "other")
        try FileManager.default.removeItem(atPath: blobPath(fixture, image.digest))

        let check = try fixture.crib(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("damaged image localhost/hello:latest: manifest \(image.digest) is missing"), "\(check.stdout)")

        let repair = try fixture.crib(["check", "--repair"])
        #expect(repair.status == 1)
        let index = try String(contentsOfFile: fixture.root + "/store/index.json", encoding: .utf8)
        #expect(!index.contains(image.digest.description))
        #expect(try fixture.crib(["inspect", "other"]).status == 0)
    }

    @Test func unusedAndStrayLayerEntries() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "hello")
        let unused = Digest.sha256(Data("gone".utf8))
        let unusedPath = fixture.root + "/layers/" + unused.description
        try FileManager.default.createDirectory(atPath: unusedPath + "/etc", withIntermediateDirectories: true)
        let strayPath = fixture.root + "/layers/sha256:" + String(repeating: "a", count: 64)
        try Data().write(to: URL(fileURLWithPath: strayPath))

        let check = try fixture.crib(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("unused layer \(unused): no image references \(unusedPath)"), "\(check.stdout)")
        #expect(check.stdout.contains("stray layer entry \(strayPath): not a directory"), "\(check.stdout)")

        #expect(try fixture.crib(["check", "--repair"]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: unusedPath))
        #expect(!FileManager.default.fileExists(atPath: strayPath))
        #expect(try fixture.crib(["check"]).status == 0)
    }
}
