import Foundation

/// A docker archive (`docker-archive:FILE[:name]`) as `docker save` writes it and
/// `docker load`, `podman load` and skopeo read it: manifest.json, repositories, the config
/// as `<hex>.json` and each layer uncompressed as `<diffID hex>.tar`.
///
/// Compressed layers are inflated on the way in, because the format names layers by diffID
/// and loaders check each tar against it. The archive is written to a temporary file beside
/// FILE and renamed over it when complete.
public final class DockerArchiveDestination: ImageDestination {
    public let path: String
    let names: [String]
    public let parallelBlobs = 1
    private let file: FileSink
    private let tar: TarWriter
    private let temporaryDirectory: String
    private var configMember: String?
    private var diffIDs: [Digest] = []
    /// Layer digest (as the manifest names it) to the member written for it.
    private var layerMembers: [Digest: String] = [:]
    public var name: String { "docker-archive:\(path)" }

    /// - Parameter names: names for RepoTags and repositories, such as `app:latest`.
    public init(path: String, names: [String]) throws {
        self.path = path
        self.names = names
        let directory = (path as NSString).deletingLastPathComponent
        temporaryDirectory = directory.isEmpty ? "." : directory
        file = try FileSink(temporaryIn: temporaryDirectory, prefix: ".crib-archive-", mode: 0o644)
        tar = TarWriter(sink: file)
    }

    public func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence { .missing }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws {
        if !descriptor.mediaType.isLayer {
            // The config comes first in a copy; its diff_ids name the layers that follow.
            let collector = DataSink()
            let hashing = HashingSink(collector)
            try source.copyBlob(descriptor, into: hashing, progress: progress)
            try hashing.verify(descriptor, object: "config \(descriptor.digest) from \(source.name)")
            let config = try CanonicalJSON.decode(
                ImageConfig.self, from: collector.data, source: "config \(descriptor.digest)")
            diffIDs = config.rootfs.diffIDs
            let member = "\(descriptor.digest.encoded).json"
            try tar.addFile(member, data: collector.data)
            configMember = member
            return
        }

        switch descriptor.mediaType.layerCompression {
        case .some(.none):
            let member = "\(descriptor.digest.encoded).tar"
            try tar.addFile(member, size: descriptor.size) { sink in
                let hashing = HashingSink(sink)
                try source.copyBlob(descriptor, into: hashing, progress: progress)
                try hashing.verify(descriptor, object: "layer \(descriptor.digest) from \(source.name)")
            }
            layerMembers[descriptor.digest] = member
        case .some(.gzip):
            // The tar's size is needed before its header, so the layer is inflated to a file first.
            let staged = try FileSink(temporaryIn: temporaryDirectory, prefix: ".crib-layer-")
            defer { unlink(staged.path) }
            let compressed = try FileSink(temporaryIn: temporaryDirectory, prefix: ".crib-layer-")
            defer { unlink(compressed.path) }
            let hashing = HashingSink(compressed)
            try source.copyBlob(descriptor, into: hashing, progress: progress)
            try hashing.verify(descriptor, object: "layer \(descriptor.digest) from \(source.name)")
            let inflated = HashingSink(staged)
            try pump(
                try GzipSource(try FileSource(path: compressed.path), name: "layer \(descriptor.digest)"),
                into: inflated)
            let diffID = inflated.finalize()
            let member = "\(diffID.encoded).tar"
            try tar.addFile(member, size: inflated.count) { sink in
                try pump(try FileSource(path: staged.path), into: sink)
            }
            layerMembers[descriptor.digest] = member
        default:
            throw OCIError.unsupportedMediaType(
                descriptor.mediaType, object: "layer \(descriptor.digest) in a docker archive")
        }
    }

    public func putManifest(_ manifest: ImageManifestData) throws {
        guard let configMember else {
            throw OCIError.invalidContent(
                object: "image \(manifest.digest)", reason: "config was not copied before its manifest")
        }
        var layers = [String]()
        for layer in manifest.manifest.layers {
            guard let member = layerMembers[layer.digest] else {
                throw OCIError.invalidContent(
                    object: "image \(manifest.digest)", reason: "layer \(layer.digest) was not copied")
            }
            layers.append(member)
        }
        for (member, diffID) in zip(layers, diffIDs) where member != "\(diffID.encoded).tar" {
            throw OCIError.invalidContent(
                object: "image \(manifest.digest)", reason: "layer \(member) does not match diff_id \(diffID)")
        }

        let tags = try names.map { try ImageReference(local: $0) }
        let entry = DockerArchiveManifest(
            config: configMember, repoTags: tags.isEmpty ? nil : tags.map(\.familiar), layers: layers)
        try tar.addFile("manifest.json", data: try CanonicalJSON.encode([entry]))

        // `repositories` is the pre-1.10 index of `docker load`: repository, tag, top layer id.
        // NOTE: the per-layer `<id>/json`, `VERSION` and `layer.tar` directories that docker
        // releases before 1.10 need are not written; podman, skopeo and later docker read
        // manifest.json instead.
        var repositories = [String: [String: String]]()
        if let top = diffIDs.last {
            for tag in tags {
                var familiar = tag
                familiar.tag = nil
                repositories[familiar.familiar, default: [:]][tag.tag ?? "latest"] = top.encoded
            }
        }
        try tar.addFile("repositories", data: try CanonicalJSON.encode(repositories))
        try tar.finish()
        try file.sync()
        try checkSyscall("rename archive to", path: path) { rename(file.path, path) }
    }

    public func abort() {
        unlink(file.path)
    }
}
