import Foundation
import Testing

@testable import OCI

struct ContentStoreTests {
    /// Writes an image with one gzip layer made by tar and gzip, as any foreign tool would.
    func writeSampleImage(_ store: ContentStore, scratch: String, name: String) throws -> StoredImage {
        let tree = scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try Data("hello from crib\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/greeting"))
        #expect(try runTool("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf", scratch + "/layer.tar", "-C", tree, "."]).status == 0)
        let tar = try Data(contentsOf: URL(fileURLWithPath: scratch + "/layer.tar"))
        #expect(try runTool("gzip", ["-n", "-k", scratch + "/layer.tar"]).status == 0)
        let gzip = try Data(contentsOf: URL(fileURLWithPath: scratch + "/layer.tar.gz"))

        let layer = try store.writeBlob(gzip, mediaType: .ociLayerGzip)
        var config = ImageConfig(diffIDs: [Digest.sha256(tar)])
        config.created = "2026-01-01T00:00:00Z"
        config.config?.cmd = ["/bin/sh"]
        return try store.commitImage(config: config, layers: [layer], names: [name])
    }

    @Test func skopeoAndUmociReadStore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let image = try writeSampleImage(store, scratch: directory.path, name: "sample:v1")
        #expect(image.names == ["localhost/sample:v1"])

        let skopeo = try runTool("skopeo", ["inspect", "--raw", "oci:\(store.root.store):localhost/sample:v1"])
        #expect(skopeo.status == 0, "\(skopeo.output)")
        #expect(Digest.sha256(Data(skopeo.output.utf8)) == image.digest)

        let config = try runTool("skopeo", ["inspect", "--config", "--raw", "oci:\(store.root.store):localhost/sample:v1"])
        #expect(Digest.sha256(Data(config.output.utf8)) == image.id)

        let umoci = try runTool("umoci", ["ls", "--layout", store.root.store])
        #expect(umoci.status == 0, "\(umoci.output)")
        #expect(umoci.output.split(separator: "\n").contains("localhost/sample:v1"))

        let stat = try runTool("umoci", ["stat", "--image", "\(store.root.store):localhost/sample:v1", "--json"])
        #expect(stat.status == 0, "\(stat.output)")
    }

    @Test func retagLeavesOldImageDangling() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let first = try writeSampleImage(store, scratch: directory.path + "/a", name: "app")
        var config = first.config
        config.config?.cmd = ["/bin/true"]
        let second = try store.commitImage(config: config, layers: first.manifest.layers, names: ["app"])

        let images = try store.images()
        #expect(images.count == 2)
        #expect(try store.image("app").digest == second.digest)
        #expect(images.first { $0.digest == first.digest }?.names == [])

        let result = try #require(try store.garbageCollect(removeDangling: true))
        #expect(result.removedImages == [first.digest])
        #expect(result.removedBlobs.contains(first.digest))
        #expect(result.removedBlobs.contains(first.id))
        // The layer is shared with the surviving image and must stay.
        #expect(store.hasBlob(first.manifest.layers[0].digest))
        #expect(try store.image("localhost/app:latest").digest == second.digest)
    }

    @Test func lookupByIDPrefixAndName() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let image = try writeSampleImage(store, scratch: directory.path, name: "tool:1")
        try store.tag(image, as: "quay.io/me/tool:2")
        #expect(try store.image(String(image.id.encoded.prefix(12))).digest == image.digest)
        #expect(try store.image(image.id.description).digest == image.digest)
        #expect(try store.image("tool:1").digest == image.digest)
        #expect(try store.image("quay.io/me/tool:2").digest == image.digest)
        #expect(throws: OCIError.self) { try store.image("tool:2") }
        #expect(try store.image("tool:1").names.sorted() == ["localhost/tool:1", "quay.io/me/tool:2"])
    }

    @Test func corruptBlobNamedOnRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let image = try writeSampleImage(store, scratch: directory.path, name: "app")
        let layer = image.manifest.layers[0]
        let path = store.blobPath(layer.digest)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))

        let reader = try store.openBlob(layer)
        var buffer = [UInt8](repeating: 0, count: 4096)
        do {
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
            Issue.record("reading a corrupt blob succeeded")
        } catch let error as OCIError {
            #expect("\(error)".contains(path))
            #expect("\(error)".contains(layer.digest.description))
        }
    }

    @Test func oversizedContentStopsEarly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let descriptor = try store.writeBlob(Data(repeating: 7, count: 100_000), mediaType: .ociLayer)
        var short = descriptor
        short.size = 10
        let reader = try store.openBlob(short)
        var buffer = [UInt8](repeating: 0, count: 65536)
        #expect(throws: OCIError.self) {
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
        }
    }

    @Test func blobWriterRejectsWrongDigest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let writer = try store.beginBlob()
        try writer.write(Data("actual".utf8))
        let claimed = Digest.sha256(Data("claimed".utf8))
        #expect(throws: OCIError.self) { try writer.commit(mediaType: .ociLayer, expected: claimed) }
        #expect(!store.hasBlob(claimed))
        #expect(!store.hasBlob(Digest.sha256(Data("actual".utf8))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.tmp).isEmpty)
    }

    @Test func malformedIndexNamedInError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = RootDirectory(path: directory.path + "/root")
        let store = try ContentStore(root: root)
        try Data("{\"schemaVersion\": 2, \"manifests\": [".utf8).write(to: URL(fileURLWithPath: root.store + "/index.json"))
        do {
            _ = try store.images()
            Issue.record("a malformed index.json was accepted")
        } catch {
            #expect("\(error)".contains(root.store + "/index.json"))
        }
    }

    @Test func concurrentTagsAllLand() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = RootDirectory(path: directory.path + "/root")
        let image = try writeSampleImage(try ContentStore(root: root), scratch: directory.path, name: "base")
        // Separate stores stand for separate processes; each takes the index lock for its update.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<16 {
                group.addTask { try ContentStore(root: root).tag(image, as: "copy\(number)") }
            }
            try await group.waitForAll()
        }
        #expect(try ContentStore(root: root).image("base").names.count == 17)
    }

    @Test func checkReportsLayerOfWrongSize() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        let sound = try writeSampleImage(store, scratch: directory.path, name: "sound")
        var layer = try store.writeBlob(Data("not a tar".utf8), mediaType: .ociLayer)
        layer.size += 1
        let wrong = try store.commitImage(config: ImageConfig(diffIDs: []), layers: [layer], names: ["wrong"])
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: store.indexPath))

        let report = try store.check(repair: false)
        #expect(report.problems.map(\.description) == [
            "damaged image localhost/wrong:latest: layer \(layer.digest) is 9 bytes, its descriptor says 10"
        ])
        #expect(report.checkedImages == 2)
        #expect(report.referencedDiffIDs == Set(sound.config.rootfs.diffIDs))
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.indexPath)) == indexBefore)

        let repaired = try store.check(repair: true)
        #expect(repaired.problems.map(\.removed) == [true])
        #expect(try store.images().map(\.digest) == [sound.digest])
        #expect(store.hasBlob(wrong.digest), "a sound blob of a removed image is left for prune")
        #expect(try store.check(repair: false).isSound)
    }

    @Test func checkLeavesUnreadableIndexInPlace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try ContentStore(root: RootDirectory(path: directory.path + "/root"))
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: store.indexPath))

        let report = try store.check(repair: true)
        #expect(!report.indexIsReadable)
        #expect(report.problems.first?.kind == .unreadableIndex)
        #expect(report.problems.first?.object == store.indexPath)
        #expect(report.problems.first?.removed == false)
        #expect(try String(contentsOfFile: store.indexPath, encoding: .utf8) == "{not json")
    }
}
