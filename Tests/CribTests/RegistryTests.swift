import Foundation
import OCI
import Testing

/// crib against a real registry (Debian's docker-registry on 127.0.0.1), read back by skopeo.
@Suite(.serialized)
struct RegistryTests {
    @Test func pushedImageMatchesSkopeoAndPullsBack() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }

        let image = try fixture.makeImage(
            "app:1", layers: [(["bin/hello": "hello\n"], gzip: true), (["etc/motd": "plain layer\n"], gzip: false)])
        let reference = "\(registry.host)/team/app:1"
        let pushed = try fixture.crib(["push", "--tls-verify=false", "app:1", "docker://\(reference)"])
        #expect(pushed.status == 0, "\(pushed.stderr)")

        let inspected = try skopeoInspect("docker://\(reference)")
        #expect(inspected["Digest"] as? String == image.digest.description)
        let layers = inspected["Layers"] as? [String] ?? []
        #expect(layers == image.manifest.layers.map(\.digest.description))

        let otherRoot = fixture.directory + "/other-root"
        let pulled = try fixture.crib(["pull", "--tls-verify=false", reference], root: otherRoot)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == image.id.encoded)
        let copy = try fixture.store(root: otherRoot).image(reference)
        #expect(copy.digest == image.digest)
        #expect(copy.id == image.id)
        #expect(copy.manifest.layers.map(\.digest) == image.manifest.layers.map(\.digest))
        #expect(fixture.temporaryFiles(root: otherRoot).isEmpty)
    }

    @Test(arguments: [true, false])
    func skopeoPushedImagePulls(gzip: Bool) throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }

        // An OCI layout that crib did not write: skopeo copies crib's store to oci:, then pushes it.
        let image = try fixture.makeImage(
            "source:1", layers: [(["bin/tool": "#!/bin/sh\necho tool\n"], gzip: gzip)], hostFiles: ["bin/busybox": "/bin/busybox"])
        let layout = fixture.directory + "/layout"
        let exported = try runTool(
            "/usr/bin/skopeo",
            ["copy", "--preserve-digests", "oci:\(fixture.root)/store:localhost/source:1", "oci:\(layout):v1"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let reference = "\(registry.host)/from-skopeo:\(gzip ? "gzip" : "plain")"
        // --preserve-digests keeps skopeo from compressing the uncompressed layer on the way.
        let pushed = try runTool(
            "/usr/bin/skopeo",
            ["copy", "--preserve-digests", "--dest-tls-verify=false", "oci:\(layout):v1", "docker://\(reference)"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let expectedDigest = try skopeoInspect("docker://\(reference)")["Digest"] as? String

        let otherRoot = fixture.directory + "/pulled"
        let pulled = try fixture.crib(["pull", "--tls-verify=false", reference], root: otherRoot)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let copy = try fixture.store(root: otherRoot).image(reference)
        #expect(copy.digest.description == expectedDigest)
        #expect(copy.id == image.id)
        #expect(copy.manifest.layers.first?.mediaType == (gzip ? .ociLayerGzip : .ociLayer))

        // The layer contains what was put in: tar lists the file from the pulled blob.
        let store = try fixture.store(root: otherRoot)
        let listed = try runTool("/bin/tar", ["-tf", store.blobPath(copy.manifest.layers[0].digest)])
        #expect(listed.stdout.contains("bin/tool"), "\(listed.stdout)")

        // And the pulled image runs.
        let ran = try fixture.crib(["run", "--rm", "--network", "none", reference, "/bin/busybox", "sh", "/bin/tool"], root: otherRoot)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "tool\n")
    }

    @Test func pushUploadsOnlyNewLayers() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let proxy = try TestHTTPServer(upstreamPort: registry.port) { _ in .forward(rewrite: nil) }
        defer { proxy.stop() }
        let host = "127.0.0.1:\(proxy.port)"

        let base = try fixture.makeImage(
            "base:1", layers: [(["base.txt": String(repeating: "base ", count: 5000)], gzip: true)])
        let derived = try fixture.makeImage("derived:1", layers: [(["app.txt": "app\n"], gzip: true)], base: base)
        #expect(try fixture.crib(["push", "--tls-verify=false", "base:1", "\(host)/base:1"]).status == 0)
        let before = proxy.seen.count

        let pushed = try fixture.crib(["push", "--tls-verify=false", "derived:1", "\(host)/base:2"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let uploads = proxy.seen.dropFirst(before).filter {
            $0.method == "PUT" && $0.target.contains("/blobs/uploads/")
        }
        let uploaded = Set(
            uploads.compactMap { request in
                URLComponents(string: request.target)?.queryItems?.first { $0.name == "digest" }?.value
            })
        let newLayer = derived.manifest.layers[1].digest.description
        #expect(uploaded == [newLayer, derived.id.description])
        #expect(!uploaded.contains(base.manifest.layers[0].digest.description))
        #expect(registry.accessLog(method: "PUT", containing: base.manifest.layers[0].digest.encoded).count == 1)

        // Into another repository of the same registry the base layer is mounted, not sent,
        // once the store names a repository there that has it. Pulling base adds that name.
        let named = try fixture.crib(["pull", "--tls-verify=false", "\(host)/base:1"])
        #expect(named.status == 0, "\(named.stderr)")
        let mark = proxy.seen.count
        let other = try fixture.crib(["push", "--tls-verify=false", "derived:1", "\(host)/elsewhere:1"])
        #expect(other.status == 0, "\(other.stderr)")
        let mounts = proxy.seen.dropFirst(mark).filter { $0.method == "POST" && $0.target.contains("mount=") }
        #expect(!mounts.isEmpty)
        let resent = proxy.seen.dropFirst(mark).filter {
            $0.method == "PUT" && $0.target.contains(base.manifest.layers[0].digest.encoded)
        }
        #expect(resent.isEmpty)
        #expect(try skopeoInspect("docker://\(host)/elsewhere:1")["Digest"] as? String == derived.digest.description)
    }

    @Test func basicAuthNeedsLogin() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture(htpasswd: ("alice", "s3cret-pass"))
        defer { registry.stop() }
        try fixture.makeImage("app:1", layers: [(["a": "a\n"], gzip: true)])
        let target = "\(registry.host)/secure/app:1"

        let refused = try fixture.crib(["push", "--tls-verify=false", "app:1", target])
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("crib login \(registry.host)"), "\(refused.stderr)")

        let wrong = try fixture.crib(["login", "--tls-verify=false", "-u", "alice", "-p", "wrong", registry.host])
        #expect(wrong.status == 125)
        let afterWrong = (try? String(contentsOfFile: fixture.authFile, encoding: .utf8)) ?? ""
        #expect(!afterWrong.contains(registry.host))

        let login = try fixture.crib(
            ["login", "--tls-verify=false", "-u", "alice", "--password-stdin", registry.host], input: "s3cret-pass\n")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(!login.stdout.contains("s3cret-pass"))
        #expect(!login.stderr.contains("s3cret-pass"))
        let stored = (try? String(contentsOfFile: fixture.authFile, encoding: .utf8)) ?? ""
        #expect(stored.contains(Data("alice:s3cret-pass".utf8).base64EncodedString()))

        let pushed = try fixture.crib(["push", "--tls-verify=false", "--debug", "app:1", target])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(!pushed.stderr.contains("s3cret-pass"))
        let pulled = try fixture.crib(["pull", "--tls-verify=false", target], root: fixture.directory + "/other")
        #expect(pulled.status == 0, "\(pulled.stderr)")

        #expect(try fixture.crib(["logout", registry.host]).status == 0)
        let afterLogout = try fixture.crib(["pull", "--tls-verify=false", target], root: fixture.directory + "/third")
        #expect(afterLogout.status == 125)
    }

    @Test func tokenServerDrivesBearerFlow() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let tokens = TokenIssuer(user: "bob", password: "token-pass")
        let server = try TestHTTPServer(upstreamPort: registry.port) { tokens.handle($0) }
        defer { server.stop() }
        tokens.realm = "http://127.0.0.1:\(server.port)/token"
        let host = "127.0.0.1:\(server.port)"
        try fixture.makeImage("app:1", layers: [(["b": "b\n"], gzip: true)])

        let anonymous = try fixture.crib(["push", "--tls-verify=false", "app:1", "\(host)/bearer/app:1"])
        #expect(anonymous.status == 125)
        #expect(anonymous.stderr.contains("token server"), "\(anonymous.stderr)")

        let login = try fixture.crib(["login", "--tls-verify=false", "-u", "bob", "-p", "token-pass", host])
        #expect(login.status == 0, "\(login.stderr)")
        let pushed = try fixture.crib(["push", "--tls-verify=false", "app:1", "\(host)/bearer/app:1"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let pulled = try fixture.crib(
            ["pull", "--tls-verify=false", "\(host)/bearer/app:1"], root: fixture.directory + "/other")
        #expect(pulled.status == 0, "\(pulled.stderr)")

        let scopes = tokens.requestedScopes
        #expect(scopes.contains("repository:bearer/app:pull,push"), "\(scopes)")
        #expect(scopes.contains("repository:bearer/app:pull"), "\(scopes)")
        // No request carried a token that the issuer had not given out or whose scopes fell short.
        #expect(tokens.rejectedAfterLogin == 0)
    }

    @Test func corruptBlobFailsAndLeavesStoreUnchanged() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let image = try fixture.makeImage(
            "app:1", layers: [(["big": String(repeating: "payload ", count: 20000)], gzip: false)])
        #expect(try fixture.crib(["push", "--tls-verify=false", "app:1", "\(registry.host)/app:1"]).status == 0)

        let layer = image.manifest.layers[0].digest
        let proxy = try TestHTTPServer(upstreamPort: registry.port) { request in
            guard request.method == "GET", request.path.hasSuffix(layer.description) else {
                return .forward(rewrite: nil)
            }
            // Same length, one byte changed near the end of the body.
            return .forward { raw in
                let position = raw.index(before: raw.endIndex)
                raw[position] ^= 0xff
            }
        }
        defer { proxy.stop() }

        let otherRoot = fixture.directory + "/victim"
        // A store that already contains an image, to check it stays exactly as it was.
        try fixture.makeImage("keep:1", layers: [(["keep": "keep\n"], gzip: true)], root: otherRoot)
        let blobsBefore = fixture.blobFiles(root: otherRoot)
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: otherRoot + "/store/index.json"))

        let pulled = try fixture.crib(["pull", "--tls-verify=false", "127.0.0.1:\(proxy.port)/app:1"], root: otherRoot)
        #expect(pulled.status == 125)
        #expect(pulled.stderr.contains(layer.description), "\(pulled.stderr)")
        #expect(pulled.stderr.contains("digest mismatch"), "\(pulled.stderr)")
        #expect(fixture.blobFiles(root: otherRoot) == blobsBefore)
        #expect(try Data(contentsOf: URL(fileURLWithPath: otherRoot + "/store/index.json")) == indexBefore)
        #expect(fixture.temporaryFiles(root: otherRoot).isEmpty)
    }
}

extension RegistryTests {
    @Test func transfersSurviveServerErrorsAndDrops() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }

        // 40 MiB uncompressed, above the 32 MiB limit for one PUT, so it goes up in PATCH chunks.
        let image = try fixture.makeImage(
            "big:1", layers: [(["big.bin": String(repeating: "0123456789abcdef", count: 40 << 16)], gzip: false)])
        let layer = image.manifest.layers[0].digest
        let faults = FaultPlan()
        let proxy = try TestHTTPServer(upstreamPort: registry.port) { request in
            faults.action(for: request, layer: layer)
        }
        defer { proxy.stop() }
        let host = "127.0.0.1:\(proxy.port)"

        let pushed = try fixture.crib(["push", "--tls-verify=false", "big:1", "\(host)/big:1"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stderr.contains("retrying upload blob"), "\(pushed.stderr)")
        #expect(proxy.seen.filter { $0.method == "PATCH" }.count == 2)
        #expect(try skopeoInspect("docker://\(host)/big:1")["Digest"] as? String == image.digest.description)

        let otherRoot = fixture.directory + "/pulled"
        let pulled = try fixture.crib(["pull", "--tls-verify=false", "\(host)/big:1"], root: otherRoot)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stderr.contains("retrying pull manifest"), "\(pulled.stderr)")
        #expect(pulled.stderr.contains("resuming blob \(layer)"), "\(pulled.stderr)")
        let ranged = proxy.seen.filter {
            $0.method == "GET" && $0.path.hasSuffix(layer.description) && $0.header("Range") != nil
        }
        #expect(ranged.count == 1)
        #expect(try fixture.store(root: otherRoot).image("\(host)/big:1").digest == image.digest)
        #expect(fixture.temporaryFiles(root: otherRoot).isEmpty)
    }
}

extension RegistryTests {
    @Test func indexResolvesToRequestedPlatform() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }

        // Two single-platform images pushed by tag, then an index naming both by digest.
        let amd64 = try fixture.makeImage("multi:amd64", layers: [(["arch": "amd64\n"], gzip: true)])
        var armConfig = amd64.config
        armConfig.architecture = "arm64"
        let arm64 = try fixture.store().commitImage(
            config: armConfig, layers: amd64.manifest.layers, names: ["multi:arm64"])
        for tag in ["amd64", "arm64"] {
            let pushed = try fixture.crib([
                "push", "--tls-verify=false", "multi:\(tag)", "\(registry.host)/multi:\(tag)",
            ])
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        var amd64Entry = amd64.manifestDescriptor
        amd64Entry.annotations = nil
        amd64Entry.platform = Platform(architecture: "amd64", os: "linux")
        var arm64Entry = arm64.manifestDescriptor
        arm64Entry.annotations = nil
        arm64Entry.platform = Platform(architecture: "arm64", os: "linux", variant: "v8")
        let index = try CanonicalJSON.encode(Index(manifests: [arm64Entry, amd64Entry]))
        let client = RegistryClient(registry: registry.host, configuration: .init(tlsVerify: false))
        try client.putManifest(
            repository: "multi", reference: "both", data: index, mediaType: MediaType.ociIndex.rawValue)

        let defaultRoot = fixture.directory + "/default"
        let pulled = try fixture.crib(["pull", "--tls-verify=false", "\(registry.host)/multi:both"], root: defaultRoot)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try fixture.store(root: defaultRoot).image("\(registry.host)/multi:both").digest == amd64.digest)

        let armRoot = fixture.directory + "/arm"
        let arm = try fixture.crib(
            ["pull", "--tls-verify=false", "--platform", "linux/arm64", "\(registry.host)/multi:both"], root: armRoot)
        #expect(arm.status == 0, "\(arm.stderr)")
        #expect(try fixture.store(root: armRoot).image("\(registry.host)/multi:both").digest == arm64.digest)

        let missing = try fixture.crib([
            "pull", "--tls-verify=false", "--platform", "linux/s390x", "\(registry.host)/multi:both",
        ])
        #expect(missing.status == 125)
        #expect(missing.stderr.contains("linux/s390x"), "\(missing.stderr)")
        #expect(missing.stderr.contains("linux/arm64/v8, linux/amd64"), "\(missing.stderr)")
    }
}

extension RegistryTests {
    @Test func chunkedUploadRecoversLostResponse() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let image = try fixture.makeImage(
            "lost:1", layers: [(["big.bin": String(repeating: "fedcba9876543210", count: 40 << 16)], gzip: false)])

        // The registry receives the first PATCH, but its response never reaches crib.
        let dropped = FirstOnly()
        let proxy = try TestHTTPServer(upstreamPort: registry.port) { request in
            guard request.method == "PATCH", dropped.take() else { return .forward(rewrite: nil) }
            return .forward { raw in raw = Data() }
        }
        defer { proxy.stop() }
        let host = "127.0.0.1:\(proxy.port)"

        let pushed = try fixture.crib(["push", "--tls-verify=false", "lost:1", "\(host)/lost:1"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let layer = image.manifest.layers[0].digest
        #expect(pushed.stderr.contains("requesting the upload status of \(layer)"), "\(pushed.stderr)")
        // docker-registry 2.8 rejects the status query of the lost PATCH's session (its state
        // token is behind), so the chunk goes again in a new session rather than twice in one.
        #expect(pushed.stderr.contains("starting the upload of \(layer) again"), "\(pushed.stderr)")
        let sessions = Set(proxy.seen.filter { $0.method == "PATCH" }.map { $0.path })
        #expect(sessions.count == 2)
        #expect(try skopeoInspect("docker://\(host)/lost:1")["Digest"] as? String == image.digest.description)
    }
}

/// True exactly once, for the first caller.
final class FirstOnly: @unchecked Sendable {
    private let lock = NSLock()
    private var used = false

    func take() -> Bool {
        lock.withLock {
            defer { used = true }
            return !used
        }
    }
}

extension RegistryTests {
    @Test func pushByNameAndCopyBetweenRepositories() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }

        // A name with a registry in it is where `crib push IMAGE` sends the image.
        let name = "\(registry.host)/named/app:5"
        let image = try fixture.makeImage(name, layers: [(["n": "named\n"], gzip: true)])
        let pushed = try fixture.crib(["push", "--tls-verify=false", name])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try skopeoInspect("docker://\(name)")["Digest"] as? String == image.digest.description)

        // Registry to registry from an empty root: blobs are staged under the root's tmp and removed.
        let emptyRoot = fixture.directory + "/empty"
        let copied = try fixture.crib(
            ["copy", "--tls-verify=false", "docker://\(name)", "docker://\(registry.host)/copied/app:5"],
            root: emptyRoot)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == image.digest.description)
        #expect(
            try skopeoInspect("docker://\(registry.host)/copied/app:5")["Digest"] as? String == image.digest.description
        )
        #expect(fixture.temporaryFiles(root: emptyRoot).isEmpty)
        #expect(fixture.blobFiles(root: emptyRoot).isEmpty)

        // A local name has no registry to go to.
        try fixture.makeImage("local-only:1", layers: [(["l": "l\n"], gzip: true)])
        let refused = try fixture.crib(["push", "--tls-verify=false", "local-only:1"])
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("give a destination"), "\(refused.stderr)")
    }
}

/// Faults for the retry test: the first PATCH and crib's first manifest GET get a 503, and
/// the first GET of the layer is cut off after half its bytes.
final class FaultPlan: @unchecked Sendable {
    private let lock = NSLock()
    private var failedPatch = false
    private var failedManifest = false
    private var cutLayer = false

    func action(for request: TestHTTPServer.Request, layer: Digest) -> TestHTTPServer.Action {
        let unavailable = TestHTTPServer.Action.respond(
            .init(status: 503, body: Data("{\"errors\":[{\"code\":\"UNAVAILABLE\"}]}".utf8)))
        return lock.withLock {
            if request.method == "PATCH" && !failedPatch {
                failedPatch = true
                return unavailable
            }
            // Only crib's requests: skopeo inspect reads the same manifest in between.
            let fromCrib = request.header("User-Agent")?.contains("crib") ?? false
            if request.method == "GET" && request.path.contains("/manifests/") && fromCrib && !failedManifest {
                failedManifest = true
                return unavailable
            }
            if request.method == "GET" && request.path.hasSuffix(layer.description) && !cutLayer {
                cutLayer = true
                return .forward { raw in
                    guard let end = raw.range(of: Data("\r\n\r\n".utf8)) else { return }
                    let body = raw.count - end.upperBound
                    raw = raw.prefix(end.upperBound + body / 2)
                }
            }
            return .forward(rewrite: nil)
        }
    }
}

/// A token server for the bearer flow in front of the test registry. `/token` issues tokens
/// for the requested scopes to one user. Every `/v2/` request needs a token whose scopes
/// cover it, or it gets a 401 challenge naming the scope.
final class TokenIssuer: @unchecked Sendable {
    let user: String
    let password: String
    var realm = ""
    private let lock = NSLock()
    private var issued: [String: Set<String>] = [:]
    private(set) var requestedScopes: [String] = []
    private(set) var rejectedAfterLogin = 0

    init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    func handle(_ request: TestHTTPServer.Request) -> TestHTTPServer.Action {
        if request.path == "/token" {
            let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            guard request.header("Authorization") == expected else { return .respond(.init(status: 401)) }
            let scopes =
                URLComponents(string: request.target)?.queryItems?.filter { $0.name == "scope" }.compactMap(\.value)
                ?? []
            let token = UUID().uuidString
            lock.withLock {
                issued[token] = Set(scopes)
                requestedScopes.append(contentsOf: scopes)
            }
            return .respond(
                .init(
                    status: 200, headers: [("Content-Type", "application/json")],
                    body: Data("{\"token\":\"\(token)\"}".utf8)))
        }

        let needed = Self.scope(for: request)
        let header = request.header("Authorization") ?? ""
        if header.hasPrefix("Bearer ") {
            let granted = lock.withLock { issued[String(header.dropFirst(7))] }
            if let granted, needed.map({ scope in granted.contains { Self.covers($0, scope) } }) ?? true {
                return .forward(rewrite: nil)
            }
            lock.withLock { rejectedAfterLogin += 1 }
        }
        var challenge = "Bearer realm=\"\(realm)\",service=\"crib-test\""
        if let needed { challenge += ",scope=\"\(needed)\"" }
        return .respond(
            .init(
                status: 401, headers: [("WWW-Authenticate", challenge)],
                body: Data("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}".utf8)))
    }

    /// `repository:NAME:pull` for reads of /v2/NAME/…, `…:pull,push` for writes.
    static func scope(for request: TestHTTPServer.Request) -> String? {
        let path = request.path
        guard path.hasPrefix("/v2/"), path != "/v2/" else { return nil }
        let rest = path.dropFirst(4)
        guard let marker = ["/blobs/", "/manifests/"].compactMap({ rest.range(of: $0) }).first else { return nil }
        let name = rest[..<marker.lowerBound]
        let write = !["GET", "HEAD"].contains(request.method)
        return "repository:\(name):\(write ? "pull,push" : "pull")"
    }

    static func covers(_ granted: String, _ needed: String) -> Bool {
        let g = granted.split(separator: ":")
        let n = needed.split(separator: ":")
        guard g.count == 3, n.count == 3, g[0] == n[0], g[1] == n[1] else { return false }
        let actions = Set(g[2].split(separator: ","))
        return n[2].split(separator: ",").allSatisfy { actions.contains($0) }
    }
}

extension RegistryTests {
    /// Ways a registry can lie about what it sends; each pull must fail naming the object.
    enum RegistryLie: String, CaseIterable, Sendable {
        case blobLongerThanDescriptor
        case manifestNotMatchingDigest
        case manifestOversized
    }

    @Test(arguments: RegistryLie.allCases)
    func registryLieRejected(lie: RegistryLie) throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let image = try fixture.makeImage("app:1", layers: [(["file": "content\n"], gzip: true)])
        #expect(try fixture.crib(["push", "--tls-verify=false", "app:1", "\(registry.host)/app:1"]).status == 0)
        let layer = image.manifest.layers[0].digest
        let layerBytes = try Data(contentsOf: URL(fileURLWithPath: try fixture.store().blobPath(layer)))
        let manifestBytes = try Data(contentsOf: URL(fileURLWithPath: try fixture.store().blobPath(image.digest)))

        let proxy = try TestHTTPServer(upstreamPort: registry.port) { request in
            guard request.method == "GET" else { return .forward(rewrite: nil) }
            switch lie {
            case .blobLongerThanDescriptor where request.path.hasSuffix(layer.description):
                return .respond(.init(status: 200, body: layerBytes + Data(repeating: 0x41, count: 1 << 20)))
            case .manifestNotMatchingDigest where request.path.contains("/manifests/"):
                // Still a valid manifest, but not the bytes the digest names.
                return .respond(
                    .init(
                        status: 200, headers: [("Content-Type", image.manifestDescriptor.mediaType.rawValue)],
                        body: manifestBytes + Data("\n".utf8)))
            case .manifestOversized where request.path.contains("/manifests/"):
                var padded = manifestBytes.dropLast()
                padded.append(Data(",\"annotations\":{\"pad\":\"\(String(repeating: "a", count: 9 << 20))\"}}".utf8))
                return .respond(
                    .init(status: 200, headers: [("Content-Type", image.manifestDescriptor.mediaType.rawValue)], body: padded))
            default:
                return .forward(rewrite: nil)
            }
        }
        defer { proxy.stop() }

        let victim = fixture.directory + "/victim"
        try fixture.makeImage("keep:1", layers: [(["keep": "keep\n"], gzip: true)], root: victim)
        let blobsBefore = fixture.blobFiles(root: victim)
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: victim + "/store/index.json"))

        let reference = "127.0.0.1:\(proxy.port)/app@\(image.digest)"
        let pulled = try fixture.crib(["pull", "--tls-verify=false", reference], root: victim)
        #expect(pulled.status == 125)
        let expected: String
        switch lie {
        case .blobLongerThanDescriptor: expected = "size mismatch in blob \(layer)"
        case .manifestNotMatchingDigest: expected = "digest mismatch"
        case .manifestOversized: expected = "invalid manifest 127.0.0.1:\(proxy.port)/app@\(image.digest): larger than"
        }
        #expect(pulled.stderr.contains(expected), "expected \"\(expected)\" in: \(pulled.stderr)")
        #expect(fixture.blobFiles(root: victim) == blobsBefore)
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim + "/store/index.json")) == indexBefore)
        #expect(fixture.temporaryFiles(root: victim).isEmpty)
    }
}

extension RegistryTests {
    @Test func plainHTTPRegistryGetsHint() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        try fixture.makeImage("app:1", layers: [(["file": "content\n"], gzip: true)])

        let pushed = try fixture.crib(["push", "app:1", "\(registry.host)/app:1"])
        #expect(pushed.status == 125)
        #expect(pushed.stderr.contains("failed to reach registry \(registry.host)"), "\(pushed.stderr)")
        #expect(pushed.stderr.contains("hint: the registry seems to speak plain HTTP; add --tls-verify=false"), "\(pushed.stderr)")
    }
}

extension RegistryTests {
    /// `FROM docker://…` copies the base into the store under its name, as podman pull would,
    /// so that prune keeps it and the next build finds it without the registry.
    @Test func buildFromRegistryKeepsBaseName() throws {
        let fixture = try TransferFixture()
        defer { fixture.cleanup() }
        let registry = try RegistryFixture()
        defer { registry.stop() }
        try fixture.makeImage("base:1", layers: [(["etc/message": "from the registry\n"], gzip: true)])
        let reference = "\(registry.host)/base:1"
        #expect(try fixture.crib(["push", "--tls-verify=false", "base:1", reference]).status == 0)

        let otherRoot = fixture.directory + "/builder"
        let context = fixture.directory + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try "FROM docker://\(reference)\nLABEL built=yes\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try fixture.crib(["build", "--tls-verify=false", "-t", "app", context], root: otherRoot)
        #expect(built.status == 0, "\(built.stderr)")

        #expect(try fixture.crib(["prune"], root: otherRoot).status == 0)
        let base = try fixture.crib(["inspect", reference], root: otherRoot)
        #expect(base.status == 0, "the base lost its name or was pruned: \(base.stderr)")
        registry.stop()
        let again = try fixture.crib(["build", "-t", "app2", context], root: otherRoot)
        #expect(again.status == 0, "\(again.stderr)")
    }
}
