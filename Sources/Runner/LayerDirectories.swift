import Foundation
import OCI

/// The unpacked-layer cache as overlay lower directories: `<root>/layers/<diffID>/`.
public enum LayerDirectories {
    /// Returns the image's layer directories, top layer first as overlayfs takes them.
    ///
    /// - Throws: `RunnerError.setupFailed` naming the first layer that is not unpacked.
    public static func lowerDirectories(for config: ImageConfig, root: RootDirectory) throws -> [String] {
        let directories = config.rootfs.diffIDs.map { root.layers + "/" + $0.description }
        for (path, diffID) in zip(directories, config.rootfs.diffIDs) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RunnerError.setupFailed(stage: "rootfs", message: "layer \(diffID) is not unpacked in \(root.layers)")
            }
        }
        guard !directories.isEmpty else {
            throw RunnerError.setupFailed(stage: "rootfs", message: "the image has no layers")
        }
        return directories.reversed()
    }
}
