import Foundation

/// An image in a docker archive (`docker-archive:FILE[:name]`, what `docker save` and
/// `podman save` write), as a copy source.
///
/// The archive has no registry manifest, so one is made up: Docker schema 2 with the
/// config's bytes as they are (so the image id stays) and each layer file as a layer.
/// Uncompressed layers take their diffID as digest, which the destination checks; a
/// compressed layer file is hashed first.
public final class DockerArchiveSource: ImageSource {
    let layout: TarArchiveLayout
    let entry: DockerArchiveManifest
    public let name: String
    private let manifestData: ImageManifestData
    /// Archive member for each layer digest.
    private var members: [Digest: String] = [:]
    /// The names the archive gives the image, in docker's short form.
    public var repoTags: [String] { entry.repoTags ?? [] }

    /// - Parameter reference: a name from `RepoTags`, or `@N` for the N-th image; may be
    ///   nil when the archive holds one image.
    public convenience init(path: String, reference: String?, temporaryDirectory: String) throws {
        let layout = try TarArchiveLayout(path: path, temporaryDirectory: temporaryDirectory)
        let entries = try Self.entries(of: layout)
        let chosen: DockerArchiveManifest
        if let reference {
            if reference.hasPrefix("@"), let position = Int(reference.dropFirst()), entries.indices.contains(position) {
                chosen = entries[position]
            } else if let match = entries.first(where: {
                $0.repoTags?.contains(where: { Self.sameName($0, reference) }) ?? false
            }) {
                chosen = match
            } else {
                throw OCIError.imageNotFound("\(reference) in docker archive \(path)")
            }
        } else {
            guard entries.count == 1, let only = entries.first else {
                throw OCIError.invalidContent(
                    object: "docker archive \(path)",
                    reason: "it holds \(entries.count) images; name one as docker-archive:\(path):NAME")
            }
            chosen = only
        }
        try self.init(layout: layout, entry: chosen, name: "docker-archive:\(path)")
    }

    init(layout: TarArchiveLayout, entry: DockerArchiveManifest, name: String) throws {
        self.layout = layout
        self.entry = entry
        self.name = name

        let configData = try layout.readFile(entry.config, limit: ContentStore.maximumMetadataSize)
        let config = try CanonicalJSON.decode(
            ImageConfig.self, from: configData, source: "\(layout.path)/\(entry.config)")
        guard config.rootfs.diffIDs.count == entry.layers.count else {
            throw OCIError.invalidContent(
                object: "docker archive \(layout.path)",
                reason:
                    "\(entry.config) lists \(config.rootfs.diffIDs.count) diff_ids but manifest.json \(entry.layers.count) layers"
            )
        }

        var layers = [Descriptor]()
        for (member, diffID) in zip(entry.layers, config.rootfs.diffIDs) {
            guard let found = layout.reader.entry(member), case .file = found.kind else {
                throw OCIError.invalidContent(
                    object: "docker archive \(layout.path)", reason: "missing layer \(member)")
            }
            let source = try layout.openFile(member)
            var head = [UInt8](repeating: 0, count: 2)
            _ = try head.withUnsafeMutableBytes { try source.read(into: $0) }
            var descriptor = Descriptor(mediaType: .dockerLayer, digest: diffID, size: found.size)
            if GzipSource.isGzip(Data(head)) {
                descriptor.mediaType = .dockerLayerGzip
                descriptor.digest = try Self.hash(try layout.openFile(member))
            }
            members[descriptor.digest] = member
            layers.append(descriptor)
        }

        let configDescriptor = Descriptor(
            mediaType: .dockerConfig, digest: Digest.sha256(configData), size: Int64(configData.count))
        members[configDescriptor.digest] = entry.config
        let manifest = Manifest(config: configDescriptor, layers: layers, mediaType: .dockerManifest)
        manifestData = try ImageManifestData(
            data: try CanonicalJSON.encode(manifest), mediaType: .dockerManifest, source: name)
    }

    /// Every image entry in a docker archive's manifest.json.
    static func entries(of layout: TarArchiveLayout) throws -> [DockerArchiveManifest] {
        guard layout.fileExists("manifest.json") else {
            throw OCIError.invalidContent(object: "docker archive \(layout.path)", reason: "no manifest.json in it")
        }
        return try CanonicalJSON.decode(
            [DockerArchiveManifest].self,
            from: try layout.readFile("manifest.json", limit: ContentStore.maximumMetadataSize),
            source: "\(layout.path)/manifest.json")
    }

    static func sameName(_ left: String, _ right: String) -> Bool {
        if left == right { return true }
        guard let a = try? ImageReference(parsing: left), let b = try? ImageReference(parsing: right) else {
            return false
        }
        return a == b
    }

    private static func hash(_ source: any ByteSource) throws -> Digest {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = SHA256Hasher()
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { return hasher.finalize() }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    public func manifest(for platform: Platform) throws -> ImageManifestData { manifestData }

    public func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws {
        guard let member = members[descriptor.digest] else {
            throw OCIError.invalidContent(
                object: "docker archive \(layout.path)", reason: "no member for blob \(descriptor.digest)")
        }
        try pump(try layout.openFile(member), into: sink, progress: progress)
    }

    public func localPath(of descriptor: Descriptor) -> String? { nil }
}
