import Foundation
import OCI
import Testing

/// Archives crib writes, read by skopeo, and archives skopeo writes, read by crib.
struct ArchiveTests {
    @Test func dockerArchiveKeepsDigestsThroughSkopeo() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage(
            "app:1",
            layers: [(["one": "1\n"], gzip: false), (["two": String(repeating: "2", count: 3000)], gzip: false)])
        let archive = fixture.directory + "/app.tar"
        let saved = try fixture.crib(["save", "--format", "docker-archive", "-o", archive, "app:1"])
        #expect(saved.status == 0, "\(saved.stderr)")

        // --preserve-digests keeps skopeo from converting to OCI, which rewrites the config
        // and compresses layers by its own design; with it every digest must come through.
        let layout = fixture.directory + "/layout"
        let copied = try runTool(
            "/usr/bin/skopeo", ["copy", "--preserve-digests", "docker-archive:\(archive)", "oci:\(layout):x"])
        #expect(copied.status == 0, "\(copied.stderr)")
        let inspected = try layoutManifest(layout)
        let config = inspected["config"] as? [String: Any]
        #expect(config?["digest"] as? String == image.id.description)
        let layers = (inspected["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(layers == image.manifest.layers.map(\.digest.description))
        #expect(layers == image.config.rootfs.diffIDs.map(\.description))

        // The default conversion to OCI is accepted too and keeps the diffIDs.
        let converted = fixture.directory + "/converted"
        let plain = try runTool("/usr/bin/skopeo", ["copy", "docker-archive:\(archive)", "oci:\(converted):x"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let convertedConfig = try skopeoInspect("oci:\(converted):x", raw: false)
        #expect((convertedConfig["Layers"] as? [String])?.count == 2)
        let diffIDs = try runTool("/usr/bin/skopeo", ["inspect", "--config", "oci:\(converted):x"])
        for diffID in image.config.rootfs.diffIDs {
            #expect(diffIDs.stdout.contains(diffID.description))
        }
    }

    @Test func dockerArchiveInflatesGzipLayers() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage(
            "zipped:1", layers: [(["z": String(repeating: "z", count: 4000)], gzip: true)])
        let archive = fixture.directory + "/zipped.tar"
        #expect(try fixture.crib(["save", "-o", archive, "zipped:1"]).status == 0)
        let layout = fixture.directory + "/layout"
        let copied = try runTool(
            "/usr/bin/skopeo", ["copy", "--preserve-digests", "docker-archive:\(archive)", "oci:\(layout):x"])
        #expect(copied.status == 0, "\(copied.stderr)")
        let inspected = try layoutManifest(layout)
        #expect((inspected["config"] as? [String: Any])?["digest"] as? String == image.id.description)
        let layers = (inspected["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(layers == image.config.rootfs.diffIDs.map(\.description))
    }

    @Test func dockerArchiveLoadsIntoPodman() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("podman-check:1", layers: [(["p": "podman\n"], gzip: true)])
        let archive = fixture.directory + "/for-podman.tar"
        #expect(try fixture.crib(["save", "-o", archive, "podman-check:1"]).status == 0)

        // podman with its own storage under the test directory, vfs so that nothing is mounted.
        let podman = [
            "--root", fixture.directory + "/podman-root", "--runroot", fixture.directory + "/podman-run",
            "--storage-driver", "vfs",
        ]
        let loaded = try runTool("/usr/bin/podman", podman + ["load", "-i", archive])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout.contains("localhost/podman-check:1"), "\(loaded.stdout)")
        let listed = try runTool("/usr/bin/podman", podman + ["images", "--no-trunc", "--format", "{{.ID}}"])
        #expect(listed.stdout.contains(image.id.encoded), "\(listed.stdout)")
    }

    @Test func ociArchiveReadBySkopeo() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("app:2", layers: [(["x": "x\n"], gzip: true)])
        let archive = fixture.directory + "/app-oci.tar"
        let saved = try fixture.crib(["save", "--format", "oci-archive", "-o", archive, "app:2"])
        #expect(saved.status == 0, "\(saved.stderr)")
        let inspected = try skopeoInspect("oci-archive:\(archive)")
        #expect(inspected["Digest"] as? String == image.digest.description)
    }

    @Test(arguments: ["docker-archive", "oci-archive", "docker-archive+gzip", "oci-archive+gzip"])
    func loadReadsSkopeoArchives(format: String) throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("origin:1", layers: [(["file": "content\n"], gzip: true)])
        let transport = format.replacingOccurrences(of: "+gzip", with: "")
        var archive = fixture.directory + "/from-skopeo.tar"
        let copied = try runTool(
            "/usr/bin/skopeo",
            ["copy", "oci:\(fixture.root)/store:localhost/origin:1", "\(transport):\(archive):example.com/loaded:7"])
        #expect(copied.status == 0, "\(copied.stderr)")
        if format.hasSuffix("+gzip") {
            #expect(try runTool("/bin/gzip", ["-f", archive]).status == 0)
            archive += ".gz"
        }

        let otherRoot = fixture.directory + "/loaded-root"
        let loaded = try fixture.crib(["load", "-i", archive], root: otherRoot)
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout.contains("example.com/loaded:7"), "\(loaded.stdout)")
        let stored = try fixture.store(root: otherRoot).image("example.com/loaded:7")
        #expect(stored.id == image.id)
        #expect(stored.config.rootfs.diffIDs == image.config.rootfs.diffIDs)
        #expect(fixture.temporaryFiles(root: otherRoot).isEmpty)
    }

    @Test func copyBetweenLayoutAndArchives() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("app:3", layers: [(["y": "y\n"], gzip: true)])
        let layout = fixture.directory + "/layout"
        let archive = fixture.directory + "/copy.tar"
        #expect(try fixture.crib(["copy", "app:3", "oci:\(layout):v3"]).status == 0)
        #expect(try fixture.crib(["copy", "oci:\(layout):v3", "oci-archive:\(archive):v3"]).status == 0)
        let back = try fixture.crib(["copy", "oci-archive:\(archive):v3", "restored:3"])
        #expect(back.status == 0, "\(back.stderr)")
        let restored = try fixture.store().image("restored:3")
        #expect(restored.digest == image.digest)
        #expect(try skopeoInspect("oci:\(layout):v3")["Digest"] as? String == image.digest.description)
    }

    @Test func layoutFilesAreWorldReadable() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("app:4", layers: [(["z": "z\n"], gzip: true)])
        let layout = fixture.directory + "/layout"
        let copied = try fixture.crib(["copy", "app:4", "oci:\(layout):v4"])
        #expect(copied.status == 0, "\(copied.stderr)")
        var files = ["oci-layout", "index.json"]
        files += ([image.digest, image.id] + image.manifest.layers.map(\.digest)).map { "blobs/sha256/\($0.encoded)" }
        for file in files {
            #expect(try permissions(of: layout + "/" + file) == 0o644, "\(file)")
        }

        let archive = fixture.directory + "/app-oci.tar"
        let saved = try fixture.crib(["save", "--format", "oci-archive", "-o", archive, "app:4"])
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(try permissions(of: archive) == 0o644)
        let listing = try runTool("/bin/tar", ["-tvf", archive])
        #expect(listing.status == 0, "\(listing.stderr)")
        let members = listing.stdout.split(separator: "\n").filter { $0.hasPrefix("-") }
        #expect(members.count == files.count)
        for member in members {
            #expect(member.hasPrefix("-rw-r--r--"), "\(member)")
        }
    }

    @Test func failedLayoutCopyRemovesDirectoryItMade() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let image = try fixture.makeImage("app:5", layers: [(["w": "w\n"], gzip: true)])
        let layer = fixture.root + "/store/blobs/sha256/" + image.manifest.layers[0].digest.encoded
        try Data("not the layer".utf8).write(to: URL(fileURLWithPath: layer))

        let fresh = fixture.directory + "/fresh"
        let failed = try fixture.crib(["copy", "app:5", "oci:\(fresh):v5"])
        #expect(failed.status == 125)
        #expect(failed.stderr.contains(image.manifest.layers[0].digest.encoded), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fresh))

        // A directory that was there before the copy is the user's, so it stays.
        let existing = fixture.directory + "/existing"
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: existing + "/notes"))
        #expect(try fixture.crib(["copy", "app:5", "oci:\(existing):v5"]).status == 125)
        #expect(FileManager.default.fileExists(atPath: existing + "/notes"))
    }

    @Test func loadRejectsOtherFiles() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let path = fixture.directory + "/not-an-archive.tar"
        try Data(repeating: 0x41, count: 2048).write(to: URL(fileURLWithPath: path))
        let result = try fixture.crib(["load", "-i", path])
        #expect(result.status == 125)
        #expect(result.stderr.contains(path), "\(result.stderr)")
        #expect(fixture.blobFiles().isEmpty)
    }

    /// Reads the manifest of the only image in an OCI layout directly, because skopeo inspect
    /// finds only OCI media types in a layout and --preserve-digests keeps Docker's.
    private func layoutManifest(_ layout: String) throws -> [String: Any] {
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
            as? [String: Any]
        guard let entry = (index?["manifests"] as? [[String: Any]])?.first, let digest = entry["digest"] as? String
        else {
            throw TestFailure("no manifest in \(layout)/index.json")
        }
        let path = layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count)
        guard
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any]
        else {
            throw TestFailure("manifest \(digest) in \(layout) is not a JSON object")
        }
        return manifest
    }
}

/// Returns the permission bits of the file at `path`.
func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
