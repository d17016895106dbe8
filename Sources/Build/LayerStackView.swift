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

    /// Resolves `path` (absolute, in the image) through the image's symlinks, as the
    /// container's root would: `..` and absolute targets stop at the image's root. The part
    /// after the first missing name is kept as written. After 40 symlinks, as Linux allows,
    /// the path is returned as resolved so far.
    func resolve(_ path: String) -> String {
        var pending = LexicalPath.clean(path).split(separator: "/").map(String.init)
        var resolved = [String]()
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = "/" + (resolved + [name]).joined(separator: "/")
            guard let found = status(of: candidate) else {
                return "/" + (resolved + [name] + pending).joined(separator: "/")
            }
            guard found.st_mode & S_IFMT == S_IFLNK, links < 40, let target = readLink(candidate) else {
                resolved.append(name)
                continue
            }
            links += 1
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/").map(String.init).filter { $0 != "." } + pending
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// Reads the symlink at `path` in the top-most layer that has it.
    private func readLink(_ path: String) -> String? {
        let relative = LexicalPath.clean(path)
        for directory in directories {
            var status = stat()
            guard lstat(directory + relative, &status) == 0 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(directory + relative, &buffer, buffer.count - 1)
            guard count >= 0 else { return nil }
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }

    /// Whether `path` is a directory in the image once its symlinks are followed, as a COPY
    /// destination such as /bin, a symlink to usr/bin on merged-/usr systems, must count.
    func isDirectory(_ path: String) -> Bool {
        guard let status = status(of: resolve(path)) else { return false }
        return status.st_mode & S_IFMT == S_IFDIR
    }

    /// Returns where a file written at `path` lands: its parent directory resolved through the
    /// image's symlinks, the last name kept. A layer entry under a name that is a symlink below
    /// would turn that name into a directory of its own when the layers are stacked, so an
    /// entry must name the real directory, as Docker and buildah write it.
    func placement(of path: String) -> String {
        let cleaned = LexicalPath.clean(path)
        guard cleaned != "/" else { return cleaned }
        let parent = (cleaned as NSString).deletingLastPathComponent
        let name = (cleaned as NSString).lastPathComponent
        return LexicalPath.resolve(name, against: resolve(parent))
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
