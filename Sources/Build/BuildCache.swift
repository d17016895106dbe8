import Foundation
import OCI

/// The build cache under `<root>/cache`: for each step that made a layer, the layer it made,
/// found again by a key that covers everything the result depends on.
///
/// A key chains the key of the step before (ultimately the base image's digest and the
/// build's layer settings), the step's expanded form, and for COPY and ADD the digest of
/// the sources' content. So a change to one step gives new keys from that step on, and the
/// steps before it still hit.
public final class BuildCache {
    /// The layer a cached step produced and its history line.
    public struct Entry: Codable, Hashable, Sendable {
        /// The compressed layer blob in the store.
        public var layer: Descriptor
        public var diffID: Digest
        /// The step's history line, as the first build wrote it.
        public var createdBy: String

        public init(layer: Descriptor, diffID: Digest, createdBy: String) {
            self.layer = layer
            self.diffID = diffID
            self.createdBy = createdBy
        }
    }

    public let root: RootDirectory

    public init(root: RootDirectory) {
        self.root = root
    }

    /// Returns the first key of a stage, from its base and the settings every layer of the build depends on.
    ///
    /// The version in the key changes whenever crib writes a different layer for the same
    /// step, so that layers of older crib releases are not reused. Version 2 leaves the
    /// runner's mount points out of RUN layers.
    public static func baseKey(base: String, layerSettings: String) -> Digest {
        Digest.sha256(Data("crib-build-cache-v2\nbase \(base)\nlayers \(layerSettings)\n".utf8))
    }

    /// Returns the key of a step that follows the step whose key is `parent`.
    public static func key(parent: Digest, summary: String, content: Digest?) -> Digest {
        let text = "\(parent)\n\(summary)\n\(content?.description ?? "-")\n"
        return Digest.sha256(Data(text.utf8))
    }

    private func path(for key: Digest) -> String {
        root.cache + "/" + key.encoded + ".json"
    }

    /// The entry for `key` when there is one and its layer blob is still in `store`; an entry
    /// whose blob was garbage-collected is a miss.
    public func lookup(_ key: Digest, in store: ContentStore) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path(for: key)),
            let entry = try? JSONDecoder().decode(Entry.self, from: data),
            store.hasBlob(entry.layer.digest)
        else { return nil }
        return entry
    }

    /// Returns the diffIDs of every entry whose layer blob is still in `store`: unpacked layers
    /// that a later build reuses even when no image references them, such as those of a build
    /// that was interrupted or of an earlier stage.
    public func liveDiffIDs(in store: ContentStore) -> Set<Digest> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.cache)) ?? []
        var diffIDs = Set<Digest>()
        for name in names where name.hasSuffix(".json") && name != "context-files.json" {
            guard let data = FileManager.default.contents(atPath: root.cache + "/" + name),
                let entry = try? JSONDecoder().decode(Entry.self, from: data),
                store.hasBlob(entry.layer.digest)
            else { continue }
            diffIDs.insert(entry.diffID)
        }
        return diffIDs
    }

    /// Returns the manifest digest of the image a build with final key `key` committed before.
    public func lookupImage(_ key: Digest) -> Digest? {
        guard let data = FileManager.default.contents(atPath: root.cache + "/" + key.encoded + ".image") else { return nil }
        return try? Digest(parsing: String(decoding: data, as: UTF8.self))
    }

    /// Records that the build whose final key is `key` committed the image with manifest `digest`.
    public func recordImage(_ key: Digest, manifest digest: Digest) throws {
        try FileManager.default.createDirectory(atPath: root.cache, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.tmp, withIntermediateDirectories: true)
        try ContentStore.writeAtomically(Data(digest.description.utf8), to: root.cache + "/" + key.encoded + ".image", temporaryDirectory: root.tmp)
    }

    /// Records `entry` for `key`, replacing the file atomically so that a reader never sees half of it.
    public func record(_ key: Digest, _ entry: Entry) throws {
        try FileManager.default.createDirectory(atPath: root.cache, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.tmp, withIntermediateDirectories: true)
        try ContentStore.writeAtomically(try CanonicalJSON.encode(entry), to: path(for: key), temporaryDirectory: root.tmp)
    }
}
