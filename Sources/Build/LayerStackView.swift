import Foundation

/// Reads paths of an image through its unpacked layer directories, top layer first, the way
/// the overlay mount of a container would show them.
///
/// A 0/0 character device in a layer is an overlay whiteout and hides the path below it.
/// NOTE: opaque directories (the overlay `opaque` xattr) are not honoured, so a directory
/// that a layer replaced still shows the names of the layers below it.
struct LayerStackView {
    let directories: [String]

    /// Returns the lstat of `path` (absolute, in the image) in the top-most layer that has it.
    func status(of path: String) -> stat? {
        let relative = LexicalPath.clean(path)
        for directory in directories {
            var status = stat()
            guard lstat(directory + relative, &status) == 0 else { continue }
            if status.st_mode & S_IFMT == S_IFCHR && status.st_rdev == 0 { return nil }
            return status
        }
        return nil
    }

    func isDirectory(_ path: String) -> Bool {
        guard let status = status(of: path) else { return false }
        return status.st_mode & S_IFMT == S_IFDIR
    }

    /// Reads a regular file such as /etc/passwd; nil when the image has none.
    func readFile(_ path: String) -> String? {
        let relative = LexicalPath.clean(path)
        for directory in directories {
            var status = stat()
            guard lstat(directory + relative, &status) == 0 else { continue }
            guard status.st_mode & S_IFMT == S_IFREG else { return nil }
            return (try? TextFile.read(directory + relative))
        }
        return nil
    }
}
