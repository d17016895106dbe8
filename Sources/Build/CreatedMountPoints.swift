import Foundation
import Layering

/// The mount points a RUN step's container needs that its image lacks, such as /proc, /sys,
/// /etc/hosts or the target of a `RUN --mount`.
///
/// The runner creates each missing one in the step's overlay upper directory, as an empty
/// directory or file, before the command starts. They are removed again before the diff, so
/// that the step's layer holds only what the command wrote, as it would have on an image that
/// had them.
struct CreatedMountPoints {
    /// Paths in the image that the runner will create.
    let missing: [String]
    /// Directories of the image above a missing path, with their status in the image.
    /// overlayfs copies each one up to create the path inside it.
    let parents: [String: Metadata]

    /// A directory's permission bits and owner.
    struct Metadata: Equatable {
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32

        init(_ status: stat) {
            mode = UInt32(status.st_mode) & 0o7777
            uid = status.st_uid
            gid = status.st_gid
        }
    }

    /// - Parameters:
    ///   - targets: the container's mount targets, before symlinks are resolved.
    ///   - view: the image as the container starts from it.
    ///   - workingDirectory: the RUN step's working directory, which stays in the layer even
    ///     when it contains only a mount point, because WORKDIR creates it.
    init(targets: [String], view: LayerStackView, workingDirectory: String) {
        var missing = Set<String>()
        var parents = [String: Metadata]()
        for target in targets {
            // The runner follows the image's symlinks, so /etc/resolv.conf linked to
            // /run/systemd/resolve/stub-resolv.conf creates the link's target.
            var path = view.resolve(target)
            while path != "/", view.status(of: path) == nil {
                missing.insert(path)
                path = Self.parent(of: path)
            }
            while path != "/", parents[path] == nil, let status = view.status(of: path) {
                parents[path] = Metadata(status)
                path = Self.parent(of: path)
            }
        }
        var workingPath = workingDirectory
        while workingPath != "/" {
            missing.remove(workingPath)
            workingPath = Self.parent(of: workingPath)
        }
        self.missing = missing.sorted()
        self.parents = parents
    }

    /// Removes from `upper` each missing path that the command left as the runner made it, an
    /// empty directory or empty file, deepest first. Then each image directory above them
    /// that overlayfs copied up goes too, if it is now empty, not opaque, and has the mode and
    /// owner it has in the image.
    ///
    /// NOTE: a command that only changed such a directory's times, or that created an empty
    /// directory or file exactly where a mount point was, loses that change.
    func remove(from upper: String) {
        for path in missing.sorted(by: Self.deepestFirst) {
            var status = stat()
            guard lstat(upper + path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: rmdir(upper + path)
            case S_IFREG where status.st_size == 0: unlink(upper + path)
            default: break
            }
        }
        for path in parents.keys.sorted(by: Self.deepestFirst) {
            guard let original = parents[path] else { continue }
            var status = stat()
            guard lstat(upper + path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, Metadata(status) == original,
                !LayerDiff.isOpaqueDirectory(upper + path)
            else { continue }
            // rmdir fails with ENOTEMPTY when the command wrote into the directory, which then stays.
            rmdir(upper + path)
        }
    }

    private static func parent(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "/" : parent
    }

    private static func deepestFirst(_ left: String, _ right: String) -> Bool {
        let leftDepth = left.split(separator: "/").count
        let rightDepth = right.split(separator: "/").count
        return leftDepth != rightDepth ? leftDepth > rightDepth : left < right
    }
}
