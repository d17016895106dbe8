import Foundation
import Layering
import OCI

/// An image's layers as overlay lower directories, from the unpacked-layer cache.
public enum LayerDirectories {
    /// Returns the image's layer directories, top layer first as overlayfs takes them,
    /// unpacking the layers the cache does not have yet from the store.
    ///
    /// - Throws: `RunnerError.setupFailed` when the manifest and config disagree on the
    ///   number of layers, or the error of the first layer that fails to unpack.
    public static func lowerDirectories(
        for image: StoredImage, store: ContentStore, root: RootDirectory, log: any LogSink = SilentLog()
    ) throws -> [String] {
        let diffIDs = image.config.rootfs.diffIDs
        let layers = image.manifest.layers
        guard diffIDs.count == layers.count else {
            throw RunnerError.setupFailed(
                stage: "rootfs",
                message: "image \(image.digest) lists \(layers.count) layers in its manifest but \(diffIDs.count) diffIDs in its config")
        }
        guard !layers.isEmpty else {
            throw RunnerError.setupFailed(stage: "rootfs", message: "image \(image.digest) has no layers")
        }

        let cache = LayerCache(root: root, log: log)
        var directories: [String] = []
        for (diffID, layer) in zip(diffIDs, layers) {
            if !cache.contains(diffID) { log.log(.debug, "unpacking layer \(diffID.shortID)") }
            directories.append(try cache.unpack(diffID: diffID) { try store.openBlob(layer) })
        }
        return directories.reversed()
    }

    /// Drops every repeat of a directory below its topmost occurrence.
    ///
    /// overlayfs refuses a lower directory listed twice (ELOOP), and images do repeat layers,
    /// for example two RUN steps that change nothing. Dropping the lower copy keeps the view:
    /// each path shows what the last layer touching it holds, and for every path the layer
    /// touches that is its topmost copy.
    static func topmostOccurrences(_ topFirst: [String]) -> [String] {
        var seen = Set<String>()
        return topFirst.filter { seen.insert($0).inserted }
    }
}
