import Foundation

extension ContentStore {
    /// The images, blobs and bytes a collection removed.
    public struct CollectionResult: Sendable {
        public var removedImages: [Digest] = []
        public var removedBlobs: [Digest] = []
        public var reclaimedBytes: Int64 = 0
    }

    /// Removes dangling images (when asked), then every blob nothing in index.json references,
    /// and stale temporary files.
    ///
    /// Waits until no other crib process holds the store for writing, so that a blob a running
    /// build or pull has written but not yet referenced is never removed.
    ///
    /// - Parameter keeping: digests referenced from outside index.json, such as build cache entries.
    /// - Parameter keepingImages: manifests that stay even when dangling, such as those of containers.
    /// - Parameter wait: when false, returns nil at once if another process is writing.
    @discardableResult
    public func garbageCollect(
        removeDangling: Bool, keeping: Set<Digest> = [], keepingImages: Set<Digest> = [], wait: Bool = true
    ) throws -> CollectionResult? {
        try withExclusiveUsage(wait: wait) {
            var result = CollectionResult()
            let live = try withIndexLock { () -> Set<Digest> in
                var index = try readIndex()
                if removeDangling {
                    let named = Set(index.manifests.filter { $0.annotations?[AnnotationKey.refName] != nil }.map(\.digest))
                    let retained = named.union(keepingImages)
                    let dangling = index.manifests.filter { !retained.contains($0.digest) }
                    result.removedImages = dangling.map(\.digest)
                    if !dangling.isEmpty {
                        index.manifests.removeAll { !retained.contains($0.digest) }
                        try writeIndex(index)
                    }
                }
                return try referencedBlobs(from: index.manifests)
            }.union(keeping)

            let directory = root.store + "/blobs/sha256"
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                guard let digest = try? Digest(parsing: "sha256:" + name) else { continue }
                guard !live.contains(digest) else { continue }
                let path = directory + "/" + name
                var status = stat()
                if stat(path, &status) == 0 { result.reclaimedBytes += Int64(status.st_size) }
                try checkSyscall("remove blob", path: path) { unlink(path) }
                DurableStep.completed("removal of blob \(digest)")
                result.removedBlobs.append(digest)
            }

            // No other crib process holds the store now, and the index lock keeps out the one kind
            // of writer that stages in tmp/ without holding it, so whatever is there was left by
            // a killed process.
            try withIndexLock {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: root.tmp)) ?? [] {
                    try? FileTree.remove(root.tmp + "/" + name)
                }
            }
            return result
        }
    }

    /// Returns the layer diffIDs of every image in index.json, for telling which unpacked layers are in use.
    public func referencedDiffIDs() throws -> Set<Digest> {
        var diffIDs = Set<Digest>()
        for entry in try indexedImages() {
            diffIDs.formUnion(try load(entry).config.rootfs.diffIDs)
        }
        return diffIDs
    }

    /// Returns every blob reachable from `entries`: manifests, their configs and layers, nested indexes.
    ///
    /// A referenced manifest that is missing or unreadable is an error, so that a collection
    /// never runs on a store it does not understand.
    func referencedBlobs(from entries: [Descriptor]) throws -> Set<Digest> {
        var live = Set<Digest>()
        var pending = entries
        while let descriptor = pending.popLast() {
            guard live.insert(descriptor.digest).inserted else { continue }
            if descriptor.mediaType.isManifest {
                let manifest = try readJSON(Manifest.self, descriptor)
                live.insert(manifest.config.digest)
                for layer in manifest.layers { live.insert(layer.digest) }
            } else if descriptor.mediaType.isIndex {
                pending.append(contentsOf: try readJSON(Index.self, descriptor).manifests)
            }
        }
        return live
    }
}
