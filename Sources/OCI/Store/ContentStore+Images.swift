import Foundation

extension ContentStore {
    // MARK: - Reading images

    /// An index.json entry grouped by manifest: the descriptor and every name pointing at it.
    struct IndexedImage {
        var descriptor: Descriptor
        var names: [String]
    }

    /// Returns the images index.json lists, without reading their blobs.
    func indexedImages() throws -> [IndexedImage] {
        var order = [IndexedImage]()
        var position = [Digest: Int]()
        for entry in try readIndex().manifests where entry.mediaType.isManifest {
            if position[entry.digest] == nil {
                position[entry.digest] = order.count
                order.append(IndexedImage(descriptor: entry, names: []))
            }
            if let name = entry.annotations?[AnnotationKey.refName], let index = position[entry.digest] {
                order[index].names.append(name)
            }
        }
        return order
    }

    /// Returns every image in the store, one per manifest, with all its names; dangling images have none.
    ///
    /// An image whose manifest or config cannot be read fails the listing with an error that
    /// names the image, so that the broken one can be removed by name or digest.
    public func images() throws -> [StoredImage] {
        try indexedImages().map { try load($0) }
    }

    /// Finds an image by name (`app`, `app:1`, `localhost/app:1`, `docker.io/library/busybox`),
    /// by `name@digest`, or by id (config digest or a prefix of its hex, as podman accepts).
    public func image(_ text: String) throws -> StoredImage {
        try resolve(text).image
    }

    /// Finds an image like `image(_:)` and also returns the stored name that matched, or nil
    /// when `text` matched an id, so that callers can tell `rmi NAME` from `rmi ID`.
    ///
    /// A lookup by name reads only the blobs of the image it finds, so one damaged image does
    /// not hide the others.
    public func resolve(_ text: String) throws -> (image: StoredImage, matchedName: String?) {
        let all = try indexedImages()

        for candidate in try ContentStore.candidateNames(text) {
            if let found = all.first(where: { $0.names.contains(candidate.description) }) {
                return (try load(found), candidate.description)
            }
            if candidate.tag == nil, let digest = candidate.digest,
                let found = all.first(where: { $0.descriptor.digest == digest && $0.names.contains { $0.hasPrefix(candidate.repository + ":") } })
            {
                return (try load(found), nil)
            }
        }

        if TransportReference.isImageID(text) {
            // Ids are config digests, which only the manifests name; images that cannot be read
            // cannot match and are passed over here.
            let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
            let matches = all.compactMap { try? load($0) }.filter { $0.id.encoded.hasPrefix(hex) || $0.digest.encoded.hasPrefix(hex) }
            let distinct = Set(matches.map(\.digest))
            if distinct.count == 1, let found = matches.first { return (found, nil) }
            if distinct.count > 1 {
                // Loading the same image from a docker and an OCI archive gives two manifests
                // over one config, so two images can share a whole id. The error lists their names.
                let described = matches.map { $0.names.first ?? $0.digest.description }
                throw OCIError.ambiguousImageID(text, matches: Array(Set(described)).sorted())
            }
        }
        throw OCIError.imageNotFound(text)
    }

    /// Returns the names a lookup of `text` tries, in order: a short name is looked for under
    /// `localhost/` first, where crib puts what it builds, then under `docker.io`.
    static func candidateNames(_ text: String) throws -> [ImageReference] {
        if TransportReference.isImageID(text) && !text.contains(":") {
            // Both a possible id prefix and a possible name, such as `abc`; try names first.
            return [try? ImageReference(local: text), try? ImageReference(parsing: text)].compactMap { $0 }
        }
        if text.hasPrefix("sha256:") { return [] }
        guard ImageReference.isShortName(text) else { return [try ImageReference(parsing: text)] }
        return [try ImageReference(local: text), try ImageReference(parsing: text)]
    }

    /// Loads the manifest and config behind an index entry; a failure names the image.
    func load(_ entry: IndexedImage) throws -> StoredImage {
        do {
            let manifest = try readJSON(Manifest.self, entry.descriptor)
            let config = try readJSON(ImageConfig.self, manifest.config)
            return StoredImage(manifestDescriptor: entry.descriptor, manifest: manifest, config: config, names: entry.names)
        } catch let error as OCIError {
            throw OCIError.damagedImage(name: entry.names.first ?? entry.descriptor.digest.description, underlying: error)
        }
    }

    // MARK: - Writing images

    /// Writes the config and manifest of a new image and gives it `names`.
    ///
    /// Every layer must already be in the store; names are parsed as local names
    /// (`app` becomes `localhost/app:latest`).
    @discardableResult
    public func commitImage(config: ImageConfig, layers: [Descriptor], annotations: [String: String]? = nil, names: [String])
        throws -> StoredImage
    {
        try holdForWriting()
        let references = try names.map { try ImageReference(local: $0) }
        for layer in layers where !hasBlob(layer.digest) {
            throw OCIError.blobNotFound(layer.digest)
        }
        let configDescriptor = try writeBlob(try CanonicalJSON.encode(config), mediaType: .ociConfig)
        let manifest = Manifest(config: configDescriptor, layers: layers, annotations: annotations)
        let manifestDescriptor = try writeBlob(try CanonicalJSON.encode(manifest), mediaType: .ociManifest)
        try setNames(references.map(\.description), for: manifestDescriptor, keepUnnamed: true)
        return StoredImage(manifestDescriptor: manifestDescriptor, manifest: manifest, config: config, names: references.map(\.description))
    }

    /// Adds the name `name` to `image`, moving it from any image that had it.
    public func tag(_ image: StoredImage, as name: String) throws {
        let reference = try ImageReference(local: name)
        try setNames([reference.description], for: image.manifestDescriptor, keepUnnamed: true)
    }

    /// Removes one fully qualified name; the image stays while other names point at it.
    public func untag(_ qualifiedName: String) throws {
        try withIndexLock {
            var index = try readIndex()
            index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == qualifiedName }
            try writeIndex(index)
        }
    }

    /// Removes the image a name points at without reading its blobs, for an image too damaged
    /// to load; returns the names it had.
    public func removeUnreadableImage(named text: String) throws -> [String] {
        let all = try indexedImages()
        for candidate in try ContentStore.candidateNames(text) {
            guard let found = all.first(where: { $0.names.contains(candidate.description) }) else { continue }
            try withIndexLock {
                var index = try readIndex()
                index.manifests.removeAll { $0.digest == found.descriptor.digest }
                try writeIndex(index)
            }
            return found.names
        }
        throw OCIError.imageNotFound(text)
    }

    /// Removes an image and every name pointing at it; its blobs go at the next collection.
    public func removeImage(_ image: StoredImage) throws {
        try withIndexLock {
            var index = try readIndex()
            index.manifests.removeAll { $0.digest == image.digest }
            try writeIndex(index)
        }
    }

    /// Points each of `names` at `descriptor` in one index update.
    ///
    /// An image that loses its last name stays in the index without one (dangling, shown as
    /// `<none>`, as podman keeps it) until `prune`, unless `keepUnnamed` is false.
    private func setNames(_ names: [String], for descriptor: Descriptor, keepUnnamed: Bool) throws {
        try withIndexLock {
            var index = try readIndex()
            var orphaned = [Descriptor]()
            for name in names {
                if let position = index.manifests.firstIndex(where: { $0.annotations?[AnnotationKey.refName] == name }) {
                    let previous = index.manifests.remove(at: position)
                    if previous.digest != descriptor.digest { orphaned.append(previous) }
                }
            }
            // The image is named now, so an unnamed entry of it is no longer needed.
            index.manifests.removeAll { $0.digest == descriptor.digest && $0.annotations?[AnnotationKey.refName] == nil }
            for name in names {
                var entry = descriptor
                entry.annotations = [AnnotationKey.refName: name]
                index.manifests.append(entry)
            }
            if keepUnnamed {
                for var previous in orphaned where !index.manifests.contains(where: { $0.digest == previous.digest }) {
                    previous.annotations = nil
                    index.manifests.append(previous)
                }
            }
            try writeIndex(index)
        }
    }
}
