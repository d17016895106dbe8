import Foundation
import OCI
import Testing

struct ImageCommandsTests {
    @Test func imagesListsTaggedImage() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello:v1")

        let table = try fixture.crib(["images"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("REPOSITORY") == true)
        let row = try #require(lines.first { $0.hasPrefix("localhost/hello ") })
        let columns = row.split(separator: " ", omittingEmptySubsequences: true)
        #expect(columns[1] == "v1")
        #expect(columns[2] == image.id.shortID)

        let json = try fixture.crib(["images", "--format", "json"])
        #expect(json.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.first?["Id"] as? String == image.id.encoded)
        #expect(rows?.first?["Names"] as? [String] == ["localhost/hello:v1"])
    }

    @Test func inspectPrintsDigestConfigLayers() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        let result = try fixture.crib(["inspect", "hello"])
        #expect(result.status == 0, "\(result.stderr)")
        let reports = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        let report = try #require(reports?.first)
        #expect(report["Digest"] as? String == image.digest.description)
        #expect((report["Config"] as? [String: Any])?["Cmd"] as? [String] == ["/hello"])
        #expect((report["Layers"] as? [[String: Any]])?.first?["digest"] as? String == image.manifest.layers[0].digest.description)
    }

    @Test func tagThenRmiKeepsOtherName() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        #expect(try fixture.crib(["tag", "hello", "hello:two", "quay.io/x/hello:3"]).status == 0)

        let removed = try fixture.crib(["rmi", "hello:two"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("Untagged: localhost/hello:two"))
        let store = try ContentStore(root: RootDirectory(path: fixture.root))
        #expect(try store.image("hello").names.sorted() == ["localhost/hello:latest", "quay.io/x/hello:3"])

        let byID = try fixture.crib(["rmi", image.id.shortID])
        #expect(byID.status == 125)
        #expect(byID.stderr.contains("--force"))
        #expect(try fixture.crib(["rmi", "--force", image.id.shortID]).status == 0)
        #expect(try store.images().isEmpty)
        #expect(!store.hasBlob(image.manifest.layers[0].digest))
    }

    @Test func emptyEnvironmentNameRejected() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "hello")
        let result = try fixture.crib(["run", "--rm", "-e", "=x", "hello"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("crib: invalid --env \"=x\": the variable name must not be empty"), "\(result.stderr)")
    }

    @Test func sharedIDNeedsNameOrDigest() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        let oci = fixture.scratch + "/hello-oci.tar"
        let docker = fixture.scratch + "/hello-docker.tar"
        #expect(try fixture.crib(["save", "--format", "oci-archive", "-o", oci, "hello"]).status == 0)
        #expect(try fixture.crib(["save", "--format", "docker-archive", "-o", docker, "hello"]).status == 0)
        #expect(try fixture.crib(["rmi", "hello"]).status == 0)

        // The same config under an OCI and a docker manifest: two images with one id.
        #expect(try fixture.crib(["load", "-i", oci]).status == 0)
        #expect(try fixture.crib(["tag", "hello", "from-oci"]).status == 0)
        #expect(try fixture.crib(["load", "-i", docker]).status == 0)
        let quiet = try fixture.crib(["images", "-q"])
        #expect(quiet.stdout == image.id.shortID + "\n")

        let byID = try fixture.crib(["rmi", image.id.shortID])
        #expect(byID.status == 125)
        #expect(byID.stderr.contains("localhost/from-oci:latest"), "\(byID.stderr)")
        #expect(byID.stderr.contains("localhost/hello:latest"), "\(byID.stderr)")
        #expect(byID.stderr.contains("--digests"), "\(byID.stderr)")

        let listing = try fixture.crib(["images", "--digests"])
        let row = try #require(listing.stdout.split(separator: "\n").first { $0.hasPrefix("localhost/from-oci ") })
        let digest = String(row.split(separator: " ", omittingEmptySubsequences: true)[2])
        #expect(digest.hasPrefix("sha256:"))
        let byDigest = try fixture.crib(["rmi", digest])
        #expect(byDigest.status == 0, "\(byDigest.stderr)")
        #expect(byDigest.stdout.contains("Untagged: localhost/from-oci:latest"))
        let store = try ContentStore(root: RootDirectory(path: fixture.root))
        #expect(try store.images().map(\.names) == [["localhost/hello:latest"]])
    }

    @Test func pruneRemovesDanglingAndUnreferenced() throws {
        let fixture = try CribFixture()
        let old = try writeSampleImage(root: fixture.root, name: "app", command: ["/old"])
        let new = try writeSampleImage(root: fixture.root, name: "app", command: ["/new"])
        // A store that wrote keeps collection waiting until it is dropped.
        let orphan = try ContentStore(root: RootDirectory(path: fixture.root))
            .writeBlob(Data("nobody refers to me".utf8), mediaType: .ociLayer)
        let store = try ContentStore(root: RootDirectory(path: fixture.root))

        let result = try fixture.crib(["prune"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(old.digest.encoded))
        #expect(!store.hasBlob(orphan.digest))
        #expect(!store.hasBlob(old.id))
        #expect(store.hasBlob(new.id))
        #expect(try store.images().map(\.digest) == [new.digest])
    }

    @Test func readCommandsOnMissingRootCreateNothing() throws {
        let fixture = try CribFixture()
        let images = try fixture.crib(["images"])
        #expect(images.status == 0, "\(images.stderr)")
        #expect(images.stdout.split(separator: "\n").count == 1)
        #expect(images.stdout.hasPrefix("REPOSITORY"))

        let containers = try fixture.crib(["ps", "--all"])
        #expect(containers.status == 0, "\(containers.stderr)")
        #expect(containers.stdout.hasPrefix("CONTAINER ID"))

        let inspected = try fixture.crib(["inspect", "hello"])
        #expect(inspected.status == 125)
        #expect(inspected.stderr == "crib: image not known: hello\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.root))
    }

    @Test func readCommandsOnReadOnlyRoot() throws {
        guard geteuid() == 0 else {
            Issue.record("this test needs root to bind-mount the crib root read-only")
            return
        }
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        let bound = try runTool("/bin/mount", ["--bind", fixture.root, fixture.root])
        #expect(bound.status == 0, "\(bound.stderr)")
        defer { _ = try? runTool("/bin/umount", [fixture.root]) }
        let remounted = try runTool("/bin/mount", ["-o", "remount,bind,ro", fixture.root])
        #expect(remounted.status == 0, "\(remounted.stderr)")

        let images = try fixture.crib(["images"])
        #expect(images.status == 0, "\(images.stderr)")
        #expect(images.stdout.contains(image.id.shortID))
        let inspected = try fixture.crib(["inspect", "hello"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains(image.digest.description))
        let containers = try fixture.crib(["ps", "--all"])
        #expect(containers.status == 0, "\(containers.stderr)")

        // Commands that write still fail, with the file system's own error.
        let removed = try fixture.crib(["rmi", "hello"])
        #expect(removed.status == 125)
        #expect(removed.stderr.contains("Read-only file system"), "\(removed.stderr)")
    }

    @Test func unknownImageExits125() throws {
        let fixture = try CribFixture()
        let result = try fixture.crib(["inspect", "no-such-image:v9"])
        #expect(result.status == 125)
        #expect(result.stderr == "crib: image not known: no-such-image:v9\n")
    }

    @Test func malformedIndexExits125() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "hello")
        let index = fixture.root + "/store/index.json"
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: index))
        let result = try fixture.crib(["images"])
        #expect(result.status == 125)
        #expect(result.stderr.hasPrefix("crib: malformed JSON in \(index)"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func corruptConfigExits125() throws {
        let fixture = try CribFixture()
        let image = try writeSampleImage(root: fixture.root, name: "hello")
        let path = fixture.root + "/store/blobs/sha256/" + image.id.encoded
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[0] = UInt8(ascii: " ")
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try fixture.crib(["inspect", "hello"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("failed to read image localhost/hello:latest"))
        #expect(result.stderr.contains("digest mismatch in \(path)"))
        #expect(result.stderr.contains(image.id.description))
    }

    @Test func damagedImageLeavesOthersUsable() throws {
        let fixture = try CribFixture()
        let damaged = try writeSampleImage(root: fixture.root, name: "damaged")
        try writeSampleImage(root: fixture.root, name: "sound", command: ["/sound"])
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: fixture.root + "/store/blobs/sha256/" + damaged.id.encoded))

        #expect(try fixture.crib(["inspect", "sound"]).status == 0)
        let listing = try fixture.crib(["images"])
        #expect(listing.status == 125)
        #expect(listing.stderr.contains("localhost/damaged:latest"))
        let removed = try fixture.crib(["rmi", "damaged"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stderr.contains("cannot be read"))
        #expect(try fixture.crib(["images"]).status == 0)
        #expect(try fixture.crib(["prune"]).status == 0)
    }

    @Test(arguments: [
        (["images", "--bogus"], "unknown option --bogus"),
        (["tag", "only-one"], "tag takes at least 2 arguments, got 1"),
        (["rmi"], "rmi takes at least 1 argument, got 0"),
        (["pull"], "pull takes 1 argument, got 0"),
        (["tag", "a", "Bad:Name"], "invalid reference \"Bad:Name\""),
        (["frobnicate"], "unknown command \"frobnicate\""),
        (["images", "--format"], "option --format requires a value"),
        (["images", "--format", "yaml"], "unsupported format \"yaml\""),
        (["--root", "", "images"], "option --root requires a directory"),
        (["build", "-t", "MyImage", "/nonexistent-context"], "invalid reference \"MyImage\""),
    ])
    func usageErrorsExit125(arguments: [String], message: String) throws {
        let fixture = try CribFixture()
        let result = try fixture.crib(arguments)
        #expect(result.status == 125)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func everyCommandHasHelp() throws {
        let fixture = try CribFixture()
        let overview = try fixture.crib(["--help"])
        #expect(overview.status == 0)
        let names = overview.stdout.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("Commands:") }.dropFirst()
            .prefix { !$0.isEmpty }.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(names.count >= 6)
        for name in names {
            let help = try fixture.crib([name, "--help"])
            #expect(help.status == 0, "\(name) --help failed")
            #expect(help.stdout.contains("Usage: crib \(name)"), "\(name) --help lacks its usage line")
        }
    }
}
