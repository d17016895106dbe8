import Foundation

/// An OCI image layout directory (`oci:DIR[:ref]`) as a copy destination. Blobs are written
/// next to their final path and renamed into place once their digest checks; index.json is
/// replaced by rename, so a reader never sees a half-written layout.
public final class LayoutImageDestination: ImageDestination {
    public let directory: String
    let reference: String?
    public let parallelBlobs = 4
    /// Whether this copy made the directory, and so may remove it when the copy fails.
    let createdDirectory: Bool
    public var name: String { "oci:\(directory)" + (reference.map { ":\($0)" } ?? "") }

    public init(directory: String, reference: String?) throws {
        self.directory = directory
        self.reference = reference
        createdDirectory = access(directory, F_OK) != 0
        do {
            for path in [directory, directory + "/blobs", directory + "/blobs/sha256"] {
                try ContentStore.makeDirectory(path)
            }
            let layoutFile = directory + "/oci-layout"
            if access(layoutFile, F_OK) != 0 {
                try ContentStore.writeAtomically(
                    Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layoutFile, temporaryDirectory: directory)
            }
        } catch {
            abort()
            throw error
        }
    }

    private func path(of digest: Digest) -> String {
        "\(directory)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    public func existingBlob(_ descriptor: Descriptor) throws -> BlobPresence {
        access(path(of: descriptor.digest), F_OK) == 0 ? .present : .missing
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource, progress: ((Int64) -> Void)?) throws {
        let file = try FileSink(temporaryIn: directory + "/blobs/sha256", prefix: ".partial-", mode: 0o644)
        do {
            let hashing = HashingSink(file)
            try source.copyBlob(descriptor, into: hashing, progress: progress)
            try hashing.verify(descriptor, object: "blob \(descriptor.digest) from \(source.name)")
            try file.sync()
            try checkSyscall("rename blob to", path: path(of: descriptor.digest)) {
                rename(file.path, path(of: descriptor.digest))
            }
        } catch {
            unlink(file.path)
            throw error
        }
    }

    public func putManifest(_ manifest: ImageManifestData) throws {
        let manifestPath = path(of: manifest.digest)
        if access(manifestPath, F_OK) != 0 {
            try ContentStore.writeAtomically(
                manifest.data, to: manifestPath, temporaryDirectory: directory + "/blobs/sha256")
        }
        var index = (try? OCILayoutDirectory(path: directory).readIndex()) ?? Index(manifests: [])
        var entry = Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.data.count))
        if let reference {
            index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == reference }
            entry.annotations = [AnnotationKey.refName: reference]
        } else {
            index.manifests.removeAll { $0.digest == manifest.digest && $0.annotations == nil }
        }
        index.manifests.append(entry)
        try ContentStore.writeAtomically(
            try CanonicalJSON.encode(index), to: directory + "/index.json", temporaryDirectory: directory)
    }

    /// Removes the directory if this copy made it, since a layout without index.json is of no
    /// use. In a directory that was there, blobs already renamed are complete and verified, so
    /// they stay for a later copy to reuse.
    public func abort() {
        if createdDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
