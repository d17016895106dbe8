import Foundation
import OCI

/// The state of every file below a directory at one moment, for `LayerDiff` to compare the
/// directory against later. File data is not copied: a change shows in mtime, ctime, size or
/// inode, and ctime changes on every write and metadata change, whatever a process does to mtime.
public struct DirectorySnapshot: Sendable {
    struct FileState: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var rdev: UInt64
        var mtime: timespec
        var ctime: timespec

        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            mode = UInt32(status.st_mode)
            uid = status.st_uid
            gid = status.st_gid
            size = Int64(status.st_size)
            rdev = UInt64(status.st_rdev)
            mtime = status.st_mtim
            ctime = status.st_ctim
        }

        static func == (lhs: FileState, rhs: FileState) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.mode == rhs.mode && lhs.uid == rhs.uid
                && lhs.gid == rhs.gid && lhs.size == rhs.size && lhs.rdev == rhs.rdev
                && lhs.mtime.tv_sec == rhs.mtime.tv_sec && lhs.mtime.tv_nsec == rhs.mtime.tv_nsec
                && lhs.ctime.tv_sec == rhs.ctime.tv_sec && lhs.ctime.tv_nsec == rhs.ctime.tv_nsec
        }
    }

    public let root: String
    let files: [[UInt8]: FileState]

    /// Records the state of everything below `root`.
    public static func capture(_ root: String) throws -> DirectorySnapshot {
        var files = [[UInt8]: FileState]()
        try TreeWalker.walk(root: root) { relative, _, status in
            files[relative] = FileState(status)
            return true
        }
        return DirectorySnapshot(root: root, files: files)
    }
}
