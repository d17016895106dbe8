import Foundation

/// Removal of directory trees that crib made and that a container may have left unreadable.
public enum FileTree {
    /// Removes the file or directory tree at `path`; nothing there is not an error.
    ///
    /// overlayfs leaves its `work/work` directory with mode 000, and a container may leave
    /// directories without write or search permission. root ignores those modes, but an
    /// unprivileged user cannot remove such a tree until it gives itself permission again,
    /// so on a permission error every directory the user owns gets mode 0700 and the removal
    /// is tried once more. Symlinks are never followed.
    public static func remove(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
            return
        } catch CocoaError.fileNoSuchFile {
            return
        } catch {
            guard geteuid() != 0 else { throw error }
        }
        openPermissions(path)
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch CocoaError.fileNoSuchFile {
            return
        } catch {
            // Foundation's message for this is generic; name the file that failed and its errno.
            let information = (error as NSError).userInfo
            let failedPath = information[NSFilePathErrorKey] as? String ?? path
            let code = (information[NSUnderlyingErrorKey] as? NSError)?.code ?? Int(EACCES)
            throw SystemError("remove", path: failedPath, errno: Int32(code))
        }
    }

    private static func openPermissions(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == geteuid() else { return }
        if status.st_mode & 0o700 != 0o700 { chmod(path, 0o700) }
        guard let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            openPermissions(path + "/" + name)
        }
    }
}
