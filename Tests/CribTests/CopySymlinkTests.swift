import Foundation
import OCI
import Testing

/// `crib build` must resolve COPY and ADD sources inside the build context or the source
/// stage, never on the host. Each test links to a sentinel file on the host that contains a
/// unique secret and checks that the secret never reaches an image.
@Suite(.serialized)
struct CopySymlinkTests {
    /// A crib root with a busybox image imported by `crib import`, a context directory and a
    /// host directory `hostEtc` whose `shadow` contains `secret`.
    final class Setup {
        let fixture: CribFixture
        let context: String
        let hostEtc: String
        let secret = "host-secret-\(UUID().uuidString)"

        init() throws {
            fixture = try CribFixture()
            context = fixture.scratch + "/context"
            hostEtc = fixture.scratch + "/host/etc"
            try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: hostEtc, withIntermediateDirectories: true)
            try (secret + "\n").write(toFile: hostEtc + "/shadow", atomically: false, encoding: .utf8)

            guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
                Issue.record("these tests need /bin/busybox (Debian package busybox-static)")
                throw CocoaError(.fileNoSuchFile)
            }
            let tree = fixture.scratch + "/busybox"
            try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: tree + "/bin/busybox")
            for applet in ["sh", "ln", "mkdir", "echo", "cat", "true"] {
                try FileManager.default.createSymbolicLink(atPath: tree + "/bin/" + applet, withDestinationPath: "busybox")
            }
            try "stage-shadow\n".write(toFile: tree + "/etc/shadow", atomically: false, encoding: .utf8)
            let imported = try fixture.crib(["import", tree, "busybox"])
            #expect(imported.status == 0, "crib import: \(imported.stderr)")
        }

        func link(_ path: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(atPath: context + "/" + path, withDestinationPath: target)
        }

        func write(_ path: String, _ content: String) throws {
            let full = context + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: false, encoding: .utf8)
        }

        func build(_ dockerfile: String) throws -> CribFixture.Result {
            try write("Dockerfile", dockerfile)
            return try fixture.crib(["build", "--timestamp", "0", "-t", "symtest", context])
        }

        /// Returns the blob paths of the built image's layers, top first.
        func layers() throws -> [String] {
            let image = try ContentStore(root: RootDirectory(path: fixture.root)).image("symtest")
            return image.manifest.layers.reversed().map { fixture.root + "/store/blobs/sha256/" + $0.digest.encoded }
        }

        /// Reads `path` with tar from the top-most layer that has it.
        func read(_ path: String) throws -> String {
            for layer in try layers() {
                let result = try CribFixture.execute("tar", ["-xOf", layer, path])
                if result.status == 0 { return result.stdout }
            }
            Issue.record("no layer of symtest has \(path)")
            return ""
        }

        /// `tar -tv` of every layer, with the data of every file.
        func listing() throws -> String {
            try layers().map { layer in
                try CribFixture.execute("tar", ["-tvf", layer]).stdout + CribFixture.execute("tar", ["-xOf", layer]).stdout
            }.joined()
        }

        /// The sentinel, still on the host; a build that wrote through a link would change it.
        var sentinel: String { (try? String(contentsOfFile: hostEtc + "/shadow", encoding: .utf8)) ?? "" }
    }

    @Test func directoryLinkInsideContextPathIsNotFollowedToHost() throws {
        let setup = try Setup()
        try setup.link("evdir", to: setup.hostEtc)
        let result = try setup.build("FROM busybox\nCOPY evdir/shadow /x\n")
        #expect(result.status != 0)
        #expect(!result.stderr.contains(setup.secret))
        #expect(result.stderr.contains("Dockerfile:2: COPY source \"evdir/shadow\" not found in the build context"), "\(result.stderr)")
    }

    @Test func contextLinksResolveAsIfContextWereRoot() throws {
        let setup = try Setup()
        // The same host path, made inside the context: an absolute link and a link that climbs
        // above the context with `..` both land here.
        try setup.write(String(setup.hostEtc.dropFirst()) + "/shadow", "context-shadow\n")
        try setup.link("evdir", to: setup.hostEtc)
        try setup.link("up", to: String(repeating: "../", count: 12) + String(setup.hostEtc.dropFirst()))
        try setup.link("direct", to: setup.hostEtc + "/shadow")
        let result = try setup.build("FROM busybox\nCOPY evdir/shadow /x\nCOPY up/shadow /y\nCOPY direct /z\n")
        #expect(result.status == 0, "\(result.stderr)")
        for path in ["x", "y", "z"] {
            let content = try setup.read(path)
            #expect(content == "context-shadow\n", "\(path): \(content)")
        }
        #expect(try setup.listing().contains(setup.secret) == false)
    }

    @Test func stageLinksResolveInsideStageRoot() throws {
        let setup = try Setup()
        let dockerfile = """
            FROM busybox AS s
            RUN ln -s /etc /evl && ln -s ../../../../etc/shadow /rel && ln -s \(setup.hostEtc) /evh \
             && mkdir -p \(setup.hostEtc) && echo in-stage > \(setup.hostEtc)/shadow
            FROM busybox
            COPY --from=s /evl/shadow /x
            COPY --from=s /rel /y
            COPY --from=s /evh/shadow /z
            """
        let result = try setup.build(dockerfile)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try setup.read("x") == "stage-shadow\n")
        #expect(try setup.read("y") == "stage-shadow\n")
        #expect(try setup.read("z") == "in-stage\n")
    }

    @Test func stageLinkToMissingPathFailsInsteadOfReadingHost() throws {
        let setup = try Setup()
        let dockerfile = """
            FROM busybox AS s
            RUN ln -s \(setup.hostEtc) /evh
            FROM busybox
            COPY --from=s /evh/shadow /x
            """
        let result = try setup.build(dockerfile)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Dockerfile:4: COPY source \"evh/shadow\" not found in stage s"), "\(result.stderr)")
    }

    @Test func linksInsideCopiedDirectoryStayLinks() throws {
        let setup = try Setup()
        try setup.write("tree/plain", "plain\n")
        try setup.link("tree/file-link", to: setup.hostEtc + "/shadow")
        try setup.link("tree/dir-link", to: setup.hostEtc)
        let result = try setup.build("FROM busybox\nCOPY tree /t/\n")
        #expect(result.status == 0, "\(result.stderr)")
        let listing = try setup.listing()
        #expect(listing.contains("t/file-link -> \(setup.hostEtc)/shadow"), "\(listing)")
        #expect(listing.contains("t/dir-link -> \(setup.hostEtc)"), "\(listing)")
        #expect(!listing.contains("t/dir-link/"), "\(listing)")
        #expect(try setup.read("t/plain") == "plain\n")
    }

    @Test func addedArchiveCannotWriteThroughLinks() throws {
        let setup = try Setup()
        // An archive with a link to the host directory, then a file below that link.
        let first = setup.fixture.scratch + "/tar-one"
        let second = setup.fixture.scratch + "/tar-two"
        try FileManager.default.createDirectory(atPath: first, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: second + "/evl", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: first + "/evl", withDestinationPath: setup.hostEtc)
        try "from-archive\n".write(toFile: second + "/evl/shadow", atomically: false, encoding: .utf8)
        let archive = setup.context + "/archive.tar"
        let created = try CribFixture.execute("tar", ["-cf", archive, "-C", first, "evl"])
        let appended = try CribFixture.execute("tar", ["-rf", archive, "-C", second, "evl/shadow"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(appended.status == 0, "\(appended.stderr)")

        let result = try setup.build("FROM busybox\nADD archive.tar /unpacked/\n")
        #expect(setup.sentinel == setup.secret + "\n")
        #expect(!result.stderr.contains(setup.secret))
        // The unpacker resolves `evl` inside the staging root, where the linked directory does
        // not exist, so the build fails naming the entry. The host file must be unchanged.
        #expect(result.status != 0)
        #expect(result.stderr.contains("layer entry \"evl/shadow\""), "\(result.stderr)")
    }
}
