import Foundation

/// An OCI archive (`oci-archive:FILE[:ref]`): a tar of an image layout, written in one pass
/// to a temporary file beside FILE and renamed over it when complete.
public final class OCIArchiveDestination: ImageDestination {
    public let path: String
    let reference: String?
    public let parallelBlobs = 1
    private let file: FileSink
    private let tar: TarWriter
    private var written = Set<Digest>()
    public var name: String { "oci-archive:\(path)" + (reference.map { ":\($0)" } ?? "") }

    public init(path: String, reference: String?) throws {
        self.path = path
        self.reference = reference
        let directory = (path as NSString).deletingLastPathComponent
        file = try FileSink(temporaryIn: directory.isEmpty ? "." : directory, prefix: ".crib-archive-", mode: 0o644)
        tar = TarWriter(sink: file)
        do {
            try tar.addFile("oci-layout", data: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            try tar.addDirectory("blobs")
            try tar.addDirectory("blobs/sha256")
        } catch {
            unlink(file.path)
            throw error
        }
    }

    public func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence {
        written.contains(descriptor.digest) ? .present : .missing
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws {
        try tar.addFile(OCILayoutDirectory.blobPath(descriptor.digest), size: descriptor.size) { sink in
            let hashing = HashingSink(sink)
            try source.copyBlob(descriptor, into: hashing, progress: progress)
            try hashing.verify(descriptor, object: "blob \(descriptor.digest) from \(source.name)")
        }
        written.insert(descriptor.digest)
    }

    public func putManifest(_ manifest: ImageManifestData) throws {
        if !written.contains(manifest.digest) {
            try tar.addFile(OCILayoutDirectory.blobPath(manifest.digest), data: manifest.data)
        }
        var entry = Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.data.count))
        if let reference { entry.annotations = [AnnotationKey.refName: reference] }
        try tar.addFile("index.json", data: try CanonicalJSON.encode(Index(manifests: [entry])))
        try tar.finish()
        try file.sync()
        try checkSyscall("rename archive to", path: path) { rename(file.path, path) }
    }

    public func abort() {
        unlink(file.path)
    }
}
