import Foundation

/// An image in an OCI image layout (`oci:DIR[:ref]`) or an archive of one
/// (`oci-archive:FILE[:ref]`), as a copy source.
public final class LayoutImageSource: ImageSource {
    let layout: any OCILayoutFiles
    /// The index entry chosen: by `org.opencontainers.image.ref.name`, or the only one.
    public let entry: Descriptor
    public let name: String

    public init(layout: any OCILayoutFiles, reference: String?, transport: String) throws {
        self.layout = layout
        self.name = transport
        let index = try layout.readIndex()
        if let reference {
            let matches = index.manifests.filter { Self.refName($0, matches: reference) }
            guard let first = matches.first else {
                let known = index.manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
                throw OCIError.imageNotFound(
                    "\(reference) in \(layout.location) (it has \(known.isEmpty ? "no names" : known.joined(separator: ", ")))"
                )
            }
            entry = first
        } else {
            guard index.manifests.count == 1, let only = index.manifests.first else {
                throw OCIError.invalidContent(
                    object: "image layout \(layout.location)",
                    reason: "it holds \(index.manifests.count) images; name one as \(transport):NAME")
            }
            entry = only
        }
    }

    init(layout: any OCILayoutFiles, entry: Descriptor, transport: String) {
        self.layout = layout
        self.entry = entry
        self.name = transport
    }

    /// Every index entry of a layout with its name, for `crib load`.
    static func entries(of layout: any OCILayoutFiles) throws -> [Descriptor] {
        try layout.readIndex().manifests
    }

    static func refName(_ descriptor: Descriptor, matches reference: String) -> Bool {
        guard let name = descriptor.annotations?[AnnotationKey.refName] else { return false }
        if name == reference { return true }
        // Layouts written by podman and buildah carry full names, skopeo's what it was given.
        if let left = try? ImageReference(local: name), let right = try? ImageReference(local: reference) {
            return left == right
        }
        return false
    }

    public func manifest(for platform: Platform) throws -> ImageManifestData {
        var descriptor = entry
        if descriptor.mediaType.isIndex {
            let nested = try CanonicalJSON.decode(
                Index.self, from: try layout.readBlob(descriptor), source: "\(name)@\(descriptor.digest)")
            guard let chosen = nested.manifest(for: platform) else {
                throw OCIError.platformNotFound(
                    reference: name, platform: platform.description,
                    available: nested.manifests.compactMap { $0.platform?.description })
            }
            descriptor = chosen
        }
        return try ImageManifestData(
            data: try layout.readBlob(descriptor), mediaType: descriptor.mediaType, source: name)
    }

    public func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws {
        let path = OCILayoutDirectory.blobPath(descriptor.digest)
        guard layout.fileExists(path) else {
            throw OCIError.invalidContent(
                object: "image layout \(layout.location)", reason: "missing blob \(descriptor.digest)")
        }
        try pump(try layout.openFile(path), into: sink, progress: progress)
    }

    public func localPath(of descriptor: Descriptor) -> String? {
        layout.localPath(OCILayoutDirectory.blobPath(descriptor.digest))
    }
}
