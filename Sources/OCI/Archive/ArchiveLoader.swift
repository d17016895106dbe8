import Foundation

/// Loads every image of an archive into the store, telling a docker archive (manifest.json)
/// from an OCI archive (index.json) by its content; either may be gzip-compressed.
public struct ArchiveLoader {
    let store: ContentStore
    let log: any LogSink

    public init(store: ContentStore, log: any LogSink = SilentLog()) {
        self.store = store
        self.log = log
    }

    /// Loads the images and returns them as stored.
    public func load(path: String) throws -> [StoredImage] {
        let layout = try TarArchiveLayout(path: path, temporaryDirectory: store.root.tmp)
        let copier = ImageCopier(log: log)
        var loaded = [StoredImage]()

        if layout.fileExists("manifest.json") {
            for (position, entry) in try DockerArchiveSource.entries(of: layout).enumerated() {
                let source = try DockerArchiveSource(
                    layout: layout, entry: entry, name: "docker-archive:\(path):@\(position)")
                // docker save writes short names that mean docker.io, as `busybox:latest`.
                let names = try (entry.repoTags ?? []).map { try ImageReference(parsing: $0).description }
                let destination = StoreImageDestination(store: store, names: names)
                try copier.copy(from: source, to: destination)
                if let image = destination.image { loaded.append(image) }
            }
        } else if layout.fileExists("index.json") {
            for entry in try LayoutImageSource.entries(of: layout) {
                let refName = entry.annotations?[AnnotationKey.refName]
                let source = LayoutImageSource(layout: layout, entry: entry, transport: "oci-archive:\(path)")
                let names = refName.flatMap { try? ImageReference(local: $0).description }.map { [$0] } ?? []
                let destination = StoreImageDestination(store: store, names: names)
                try copier.copy(from: source, to: destination)
                if let image = destination.image { loaded.append(image) }
            }
        } else {
            throw OCIError.invalidContent(
                object: "archive \(path)",
                reason: "neither a docker archive (manifest.json) nor an OCI archive (index.json)")
        }
        return loaded
    }
}
