import Foundation
import Layering
import OCI

/// An image's layers as overlay lower directories, unpacked into the layer cache on first use.
public enum ImageLayers {
    /// Returns the lower directories of `image`, top layer first as overlayfs takes them,
    /// unpacking each layer the cache lacks from the store.
    public static func lowerDirectories(for image: StoredImage, store: ContentStore, log: any LogSink = SilentLog()) throws
        -> [String]
    {
        let cache = LayerCache(root: store.root, log: log)
        guard !image.manifest.layers.isEmpty else {
            throw RunnerError.setupFailed(stage: "rootfs", message: "the image has no layers")
        }
        var directories: [String] = []
        for (descriptor, diffID) in zip(image.manifest.layers, image.config.rootfs.diffIDs) {
            let directory = try cache.unpack(diffID: diffID) { try store.openBlob(descriptor) }
            directories.append(directory)
        }
        return directories.reversed()
    }
}
