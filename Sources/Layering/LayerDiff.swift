import CArchive
import Foundation
import OCI

private let typeMask: UInt32 = 0o170000
private let directoryType: UInt32 = 0o040000

/// Produces the layer of what changed in a container's root file system.
public enum LayerDiff {
    /// Adds everything in an overlayfs upper directory to `writer`.
    ///
    /// overlayfs records a deletion as a 0/0 character device, which becomes `.wh.NAME`, and
    /// a directory that replaced a lower one as an `opaque` xattr (`trusted.overlay.` or
    /// `user.overlay.`), which becomes `.wh..wh..opq` right after the directory's own entry.
    /// NOTE: the upper directory must come from a mount without `redirect_dir` and `metacopy`,
    /// whose renamed directories and metadata-only copies this reads as ordinary files.
    public static func addOverlayUpper(_ upper: String, to writer: LayerWriter) throws {
        try TreeWalker.walk(root: upper) { relative, absolute, status in
            let type = status.st_mode & S_IFMT
            if type == S_IFCHR && status.st_rdev == 0 {
                try writer.addWhiteout(for: relative)
                return false
            }
            try writer.addFile(relative: relative, absolute: absolute, status: status)
            if try type == S_IFDIR && isOpaque(absolute) {
                try writer.addOpaqueWhiteout(directory: relative)
            }
            return true
        }
    }

    /// Returns whether overlayfs marked the upper directory at `path` opaque, which means it
    /// replaced the lower directory and hides the names in it.
    public static func isOpaqueDirectory(_ path: String) -> Bool {
        (try? isOpaque(Array(path.utf8))) ?? false
    }

    private static func isOpaque(_ path: [UInt8]) throws -> Bool {
        for prefix in ["trusted.overlay.", "user.overlay."] {
            var value: UInt8 = 0
            let length = TreeWalker.withPath(path) { lgetxattr($0, prefix + "opaque", &value, 1) }
            if length == 1 && value == 0x79 { return true }
        }
        return false
    }

    /// Adds what changed below `directory` since `snapshot` to `writer`: new and changed files
    /// with the directories above them, `.wh.NAME` for deleted files, and `.wh..wh..opq` for a
    /// directory that was deleted and made again.
    public static func addChanges(in directory: String, since snapshot: DirectorySnapshot, to writer: LayerWriter) throws {
        var present = [[UInt8]: DirectorySnapshot.FileState]()
        // Directories above a change that are not in the layer yet, outermost first.
        var pendingDirectories: [(relative: [UInt8], absolute: [UInt8], status: stat)] = []

        try TreeWalker.walk(root: directory) { relative, absolute, status in
            let state = DirectorySnapshot.FileState(status)
            present[relative] = state
            while let last = pendingDirectories.last, !isAncestor(last.relative, of: relative) {
                pendingDirectories.removeLast()
            }
            let before = snapshot.files[relative]
            let isDirectory = status.st_mode & S_IFMT == S_IFDIR
            guard before != state else {
                if isDirectory { pendingDirectories.append((relative, absolute, status)) }
                return true
            }

            for pending in pendingDirectories {
                try writer.addFile(relative: pending.relative, absolute: pending.absolute, status: pending.status)
            }
            pendingDirectories.removeAll()
            try writer.addFile(relative: relative, absolute: absolute, status: status)
            // A directory with a new inode replaced the old one, so nothing of the old one may show through.
            if isDirectory, let before, before.mode & typeMask == directoryType, before.inode != state.inode {
                try writer.addOpaqueWhiteout(directory: relative)
            }
            return true
        }

        // A deletion needs a whiteout only where its parent survives as the same directory;
        // otherwise a whiteout or opaque directory higher up covers it.
        var deleted = [[UInt8]]()
        for (path, _) in snapshot.files where present[path] == nil {
            let (parentWithSlash, _) = Whiteout.split(path)
            let parent = Array(parentWithSlash.dropLast())
            if parent.isEmpty {
                deleted.append(path)
            } else if let now = present[parent], let then = snapshot.files[parent], now.inode == then.inode,
                now.mode & typeMask == directoryType
            {
                deleted.append(path)
            }
        }
        deleted.sort { $0.lexicographicallyPrecedes($1) }
        for path in deleted { try writer.addWhiteout(for: path) }
    }

    private static func isAncestor(_ directory: [UInt8], of path: [UInt8]) -> Bool {
        path.count > directory.count && path.starts(with: directory) && path[directory.count] == 0x2f
    }
}
