import Foundation
import OCI
import Testing

/// `ADD http://…` in `crib build`, against a file server on 127.0.0.1 that counts its requests.
@Suite(.serialized)
struct AddURLBuildTests {
    /// A crib root with a busybox image imported by `crib import`, a context directory and a
    /// server whose files a test may change between builds.
    final class Setup: @unchecked Sendable {
        let fixture: CribFixture
        let context: String
        let server: TestHTTPServer
        let fileTable: FileTable

        init() throws {
            fixture = try CribFixture()
            context = fixture.scratch + "/context"
            try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
            let files = FileTable()
            self.fileTable = files
            server = try TestHTTPServer(upstreamPort: nil) { request in
                if request.path == "/private" {
                    return .respond(.init(status: 401, headers: [("WWW-Authenticate", "Basic realm=\"test\"")]))
                }
                guard let file = files.get(request.path) else { return .respond(.init(status: 404)) }
                var headers = [(String, String)]()
                if let lastModified = file.lastModified { headers.append(("Last-Modified", lastModified)) }
                return .respond(.init(status: 200, headers: headers, body: file.data))
            }

            guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
                Issue.record("these tests need /bin/busybox (Debian package busybox-static)")
                throw CocoaError(.fileNoSuchFile)
            }
            let tree = fixture.scratch + "/busybox"
            try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: tree + "/bin/busybox")
            for applet in ["sh", "cat", "ls", "stat"] {
                try FileManager.default.createSymbolicLink(atPath: tree + "/bin/" + applet, withDestinationPath: "busybox")
            }
            let imported = try fixture.crib(["import", tree, "busybox"])
            #expect(imported.status == 0, "crib import: \(imported.stderr)")
        }

        deinit { server.stop() }

        var base: String { "http://127.0.0.1:\(server.port)" }

        func serve(_ path: String, _ data: Data, lastModified: String? = nil) {
            fileTable.set(path, (data, lastModified))
        }

        /// Requests the server has seen for `path`.
        func requests(_ path: String) -> Int {
            server.seen.filter { $0.path == path }.count
        }

        func build(_ dockerfile: String, tag: String = "urltest") throws -> CribFixture.Result {
            try dockerfile.write(toFile: context + "/Dockerfile", atomically: false, encoding: .utf8)
            return try fixture.crib(["build", "--timestamp", "1700000000", "-t", tag, context])
        }

        func hasImage(_ tag: String) throws -> Bool {
            (try? ContentStore(root: RootDirectory(path: fixture.root)).image(tag)) != nil
        }
    }

    /// Files by URL path, shared with the server's threads.
    final class FileTable: @unchecked Sendable {
        private let lock = NSLock()
        private var files: [String: (data: Data, lastModified: String?)] = [:]

        func get(_ path: String) -> (data: Data, lastModified: String?)? { lock.withLock { files[path] } }
        func set(_ path: String, _ file: (data: Data, lastModified: String?)) { lock.withLock { files[path] = file } }
    }

    static func sha256(_ data: Data) -> String {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize().description
    }

    @Test func fileLandsWithModeAndMtime() throws {
        let setup = try Setup()
        setup.serve("/files/data.txt", Data("remote data\n".utf8), lastModified: "Sun, 09 Sep 2001 01:46:40 GMT")
        // Gzip magic: ADD extracts local archives only, so this one must arrive as it was served.
        let archive = Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00])
        setup.serve("/files/pack.tar.gz", archive)
        let result = try setup.build("""
            FROM busybox
            ADD \(setup.base)/files/data.txt /dest/
            ADD --chown=7:8 --chmod=0640 \(setup.base)/files/data.txt /other/renamed.txt
            ADD \(setup.base)/files/pack.tar.gz /dest/
            ADD \(setup.base)/files/data.txt /dest
            """)
        #expect(result.status == 0, "stderr: \(result.stderr)")

        let cat = try setup.fixture.crib(["run", "--rm", "urltest", "cat", "/dest/data.txt", "/other/renamed.txt"])
        #expect(cat.status == 0, "stderr: \(cat.stderr)")
        #expect(cat.stdout == "remote data\nremote data\n")
        // /dest is a directory by then, so the last ADD puts data.txt inside it again.
        let list = try setup.fixture.crib(["run", "--rm", "urltest", "ls", "/dest"])
        #expect(list.stdout == "data.txt\npack.tar.gz\n", "stderr: \(list.stderr)")

        let image = try ContentStore(root: RootDirectory(path: setup.fixture.root)).image("urltest")
        var listings = [String]()
        for layer in image.manifest.layers.suffix(4) {
            let blob = setup.fixture.root + "/store/blobs/sha256/" + layer.digest.encoded
            let listing = try CribFixture.execute("tar", ["--numeric-owner", "--full-time", "-tvf", blob]).stdout
            listings.append(listing.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))
        }
        #expect(listings[0].contains("-rw------- 0/0 12 2001-09-09 01:46:40 dest/data.txt"), "\(listings[0])")
        #expect(listings[1].contains("-rw-r----- 7/8 12 2001-09-09 01:46:40 other/renamed.txt"), "\(listings[1])")
        // Without Last-Modified the build timestamp applies.
        #expect(listings[2].contains("-rw------- 0/0 8 2023-11-14 22:13:20 dest/pack.tar.gz"), "\(listings[2])")
        #expect(listings[3].contains("-rw------- 0/0 12 2001-09-09 01:46:40 dest/data.txt"), "\(listings[3])")
    }

    @Test func checksumVerifiedAndCached() throws {
        let setup = try Setup()
        let data = Data("pinned content\n".utf8)
        setup.serve("/pinned.txt", data)
        let good = Self.sha256(data)
        let dockerfile = "FROM busybox\nADD --checksum=\(good) \(setup.base)/pinned.txt /dest/\n"

        let first = try setup.build(dockerfile)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(setup.requests("/pinned.txt") == 1)
        let cat = try setup.fixture.crib(["run", "--rm", "urltest", "cat", "/dest/pinned.txt"])
        #expect(cat.stdout == "pinned content\n", "stderr: \(cat.stderr)")

        let second = try setup.build(dockerfile)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stderr.contains("--> Using cache "))
        #expect(second.stdout == first.stdout)
        #expect(setup.requests("/pinned.txt") == 1, "a cached rebuild with --checksum fetched again")

        let wrong = "sha256:" + String(repeating: "0", count: 64)
        let bad = try setup.build("FROM busybox\nADD --checksum=\(wrong) \(setup.base)/pinned.txt /dest/\n", tag: "badsum")
        #expect(bad.status != 0)
        #expect(
            bad.stderr.contains("Dockerfile:2: ADD checksum mismatch for \(setup.base)/pinned.txt: expected \(wrong), got \(good)"),
            "stderr: \(bad.stderr)")
        #expect(try !setup.hasImage("badsum"))
    }

    @Test(arguments: ["sha384", "sha512"])
    func checksumTakesLongerSHA2(algorithm: String) throws {
        let setup = try Setup()
        let data = Data("pinned with \(algorithm)\n".utf8)
        setup.serve("/pinned.txt", data)
        // coreutils computes the expected digest, so the check does not rest on crib's own hasher.
        let file = setup.fixture.scratch + "/pinned.txt"
        try data.write(to: URL(fileURLWithPath: file))
        let sum = try CribFixture.execute("\(algorithm)sum", [file])
        let good = "\(algorithm):" + (sum.stdout.split(separator: " ").first.map(String.init) ?? "")

        let first = try setup.build("FROM busybox\nADD --checksum=\(good) \(setup.base)/pinned.txt /dest/\n")
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let cat = try setup.fixture.crib(["run", "--rm", "urltest", "cat", "/dest/pinned.txt"])
        #expect(cat.stdout == "pinned with \(algorithm)\n", "stderr: \(cat.stderr)")

        let length = algorithm == "sha384" ? 96 : 128
        let wrong = "\(algorithm):" + String(repeating: "0", count: length)
        let bad = try setup.build("FROM busybox\nADD --checksum=\(wrong) \(setup.base)/pinned.txt /dest/\n", tag: "badsum")
        #expect(bad.status != 0)
        #expect(
            bad.stderr.contains("Dockerfile:2: ADD checksum mismatch for \(setup.base)/pinned.txt: expected \(wrong), got \(good)"),
            "stderr: \(bad.stderr)")
        #expect(try !setup.hasImage("badsum"))
    }

    @Test func changedFileMissesCache() throws {
        let setup = try Setup()
        setup.serve("/changing.txt", Data("one\n".utf8))
        let dockerfile = "FROM busybox\nADD \(setup.base)/changing.txt /c.txt\n"
        let first = try setup.build(dockerfile)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let again = try setup.build(dockerfile)
        #expect(again.stderr.contains("--> Using cache "), "stderr: \(again.stderr)")
        #expect(again.stdout == first.stdout)

        setup.serve("/changing.txt", Data("two\n".utf8))
        let changed = try setup.build(dockerfile)
        #expect(changed.status == 0, "stderr: \(changed.stderr)")
        #expect(!changed.stderr.contains("--> Using cache "), "stderr: \(changed.stderr)")
        #expect(changed.stdout != first.stdout)
        let cat = try setup.fixture.crib(["run", "--rm", "urltest", "cat", "/c.txt"])
        #expect(cat.stdout == "two\n", "stderr: \(cat.stderr)")
    }

    @Test func fetchErrorsNameLineAndURL() throws {
        let setup = try Setup()
        let missing = try setup.build("FROM busybox\nADD \(setup.base)/missing.txt /dest/\n", tag: "missing")
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("Dockerfile:2: failed to fetch \(setup.base)/missing.txt: HTTP status 404"), "stderr: \(missing.stderr)")
        #expect(try !setup.hasImage("missing"))

        // A Basic challenge must fail the build rather than wait for credentials.
        let denied = try setup.build("FROM busybox\nADD \(setup.base)/private /dest/\n", tag: "denied")
        #expect(denied.stderr.contains("Dockerfile:2: failed to fetch \(setup.base)/private: HTTP status 401"), "stderr: \(denied.stderr)")

        let closed = try TestHTTPServer.freePort()
        let refused = try setup.build("FROM busybox\nADD http://127.0.0.1:\(closed)/file /dest/\n", tag: "refused")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Dockerfile:2: failed to fetch http://127.0.0.1:\(closed)/file: "), "stderr: \(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").filter { $0.hasPrefix("crib:") }.count == 1, "stderr: \(refused.stderr)")
    }

    @Test(arguments: [
        ("ADD --checksum=sha256:\(String(repeating: "a", count: 64)) local.txt /dest/", "Dockerfile:2: ADD --checksum requires http or https sources"),
        ("ADD --checksum=md5:abc http://127.0.0.1:1/f /dest/", "Dockerfile:2: invalid --checksum=md5:abc"),
        ("ADD --checksum=sha384:\(String(repeating: "a", count: 64)) http://127.0.0.1:1/f /dest/", "Dockerfile:2: invalid --checksum=sha384:"),
        (
            "ADD --checksum=sha256:\(String(repeating: "a", count: 64)) http://127.0.0.1:1/a http://127.0.0.1:1/b /dest/",
            "Dockerfile:2: ADD --checksum requires exactly one source, got 2"
        ),
    ])
    func rejectsMisusedChecksum(line: String, message: String) throws {
        let fixture = try CribFixture()
        try "FROM scratch\n\(line)\n".write(toFile: fixture.scratch + "/Dockerfile", atomically: false, encoding: .utf8)
        try "x\n".write(toFile: fixture.scratch + "/local.txt", atomically: false, encoding: .utf8)
        let result = try fixture.crib(["build", "--dry-run", fixture.scratch])
        #expect(result.status == 125)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }
}
