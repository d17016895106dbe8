import Foundation
import OCI

/// A crib root and environment for transfer tests (registry, archives): a temporary root, HOME and auth file, so that
/// nothing outside the test's directory is read or written. Removed by `cleanup()`.
struct TransferFixture {
    let directory: String
    let root: String
    let authFile: String

    init() throws {
        directory = try makeTemporaryDirectory("test")
        root = directory + "/root"
        authFile = directory + "/auth.json"
        try FileManager.default.createDirectory(atPath: directory + "/home", withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory + "/home"
        environment["REGISTRY_AUTH_FILE"] = authFile
        environment["XDG_RUNTIME_DIR"] = directory
        environment["CRIB_ROOT"] = root
        return environment
    }

    /// Runs crib with this fixture's root and environment.
    @discardableResult
    func crib(_ arguments: [String], root: String? = nil, input: String? = nil) throws -> ToolResult {
        try runTool(
            CribFixture.binary, ["--root", root ?? self.root] + arguments, environment: environment, input: input)
    }

    func store(root: String? = nil) throws -> ContentStore {
        try ContentStore(root: RootDirectory(path: root ?? self.root))
    }

    /// Writes an image into the store: one layer per entry of `layers`, each a tar of the
    /// given files (path to content), gzip-compressed when `gzip` is set.
    @discardableResult
    ///
    /// `hostFiles` (path in the image to a host file) go into the first layer, such as a
    /// static busybox that makes the image runnable.
    func makeImage(
        _ name: String, layers: [(files: [String: String], gzip: Bool)], base: StoredImage? = nil, root: String? = nil,
        hostFiles: [String: String] = [:]
    )
        throws -> StoredImage
    {
        let store = try store(root: root)
        var descriptors = base?.manifest.layers ?? []
        var diffIDs = base?.config.rootfs.diffIDs ?? []
        for (position, layer) in layers.enumerated() {
            let content = directory + "/layer-\(UUID().uuidString)"
            for (path, text) in layer.files {
                let full = content + "/" + path
                try FileManager.default.createDirectory(
                    atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: full, atomically: true, encoding: .utf8)
            }
            for (path, hostPath) in hostFiles where position == 0 {
                let full = content + "/" + path
                try FileManager.default.createDirectory(
                    atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: hostPath, toPath: full)
            }
            let tarPath = content + ".tar"
            let tarred = try runTool(
                "/bin/tar",
                [
                    "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", content, "-cf",
                    tarPath, ".",
                ])
            guard tarred.status == 0 else { throw TestFailure("tar failed for layer \(position): \(tarred.stderr)") }
            let tar = try Data(contentsOf: URL(fileURLWithPath: tarPath))
            diffIDs.append(Digest.sha256(tar))
            if layer.gzip {
                let zipped = try runTool("/bin/gzip", ["-n", "-f", tarPath])
                guard zipped.status == 0 else { throw TestFailure("gzip failed: \(zipped.stderr)") }
                let gz = try Data(contentsOf: URL(fileURLWithPath: tarPath + ".gz"))
                descriptors.append(try store.writeBlob(gz, mediaType: .ociLayerGzip))
            } else {
                descriptors.append(try store.writeBlob(tar, mediaType: .ociLayer))
            }
        }
        var config = ImageConfig(platform: Platform(architecture: "amd64", os: "linux"), diffIDs: diffIDs)
        config.config?.cmd = ["/bin/sh"]
        return try store.commitImage(config: config, layers: descriptors, names: [name])
    }

    /// Files under the store's blobs directory, and the store's temporary directory.
    func blobFiles(root: String? = nil) -> Set<String> {
        let base = (root ?? self.root) + "/store/blobs/sha256"
        return Set((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
    }

    func temporaryFiles(root: String? = nil) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: (root ?? self.root) + "/tmp")) ?? []
    }
}

/// skopeo's JSON for an image, parsed.
func skopeoInspect(_ reference: String, raw: Bool = false) throws -> [String: Any] {
    let result = try runTool(
        "/usr/bin/skopeo", ["inspect", "--tls-verify=false"] + (raw ? ["--raw"] : []) + [reference])
    guard result.status == 0 else { throw TestFailure("skopeo inspect \(reference) failed: \(result.stderr)") }
    guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw TestFailure("skopeo inspect \(reference) printed no JSON object")
    }
    return object
}
