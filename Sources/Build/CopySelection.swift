import Foundation
import Layering
import OCI

/// Chooses what a COPY or ADD takes from a source tree (the build context, or the root file
/// system of a stage or image) and where each object lands, following the reference.
/// A directory source copies its contents, not itself. A file goes to `DEST/NAME` when the
/// destination is a directory and to `DEST` itself otherwise. Wildcards follow Go's
/// `filepath.Match`, and each match is copied as if it had been named.
///
/// A named source is resolved inside the tree as if the tree were `/`: a symlink anywhere
/// in its path, absolute or with `..`, stays in the tree, as the reference does for the
/// build context and for stages. Below a named directory nothing is followed; a symlink
/// there is copied as a symlink.
public struct CopySelection {
    /// The tree sources are relative to, with its own symlinks resolved, so that the source
    /// path of every item passes through no symlink at all.
    public let root: String
    private let rooted: RootedDirectory
    /// Ignore rules of the build context; empty for other trees.
    public let ignore: DockerIgnore
    /// `--exclude` patterns of the instruction, matched like .dockerignore lines.
    public let excludes: DockerIgnore
    public let location: SourceLocation
    public let keyword: String
    /// The name of the tree in errors, such as "the build context" or "stage 0".
    public let description: String

    public init(
        root: String, ignore: DockerIgnore, excludes: [String], location: SourceLocation, keyword: String,
        description: String = "the build context"
    ) throws {
        self.description = description
        do {
            rooted = try RootedDirectory(path: root)
            self.root = try rooted.canonicalPath()
        } catch let error as SystemError {
            throw BuildError.io(error)
        }
        self.ignore = ignore
        self.location = location
        self.keyword = keyword
        do {
            self.excludes = try DockerIgnore(parsing: excludes.joined(separator: "\n"), file: "\(keyword) --exclude")
        } catch let error as BuildError {
            throw BuildError.invalidInstruction(location, "invalid \(keyword) --exclude: \(error)")
        }
    }

    private func isIgnored(_ relative: String) -> Bool {
        relative != "." && ignore.excludes(relative)
    }

    /// Selects the items for `sources` (cleaned paths relative to `root`) copied to `destination`.
    ///
    /// `destinationIsDirectory` is true when the instruction wrote a trailing `/`. With
    /// `keepingParents` (`COPY --parents`), each source keeps its path below the root.
    /// `isDirectoryInImage` returns whether a path is already a directory in the image, which
    /// also makes a file go inside it.
    public func items(
        sources: [String], destination: String, destinationIsDirectory: Bool, keepingParents: Bool = false,
        isDirectoryInImage: (String) -> Bool = { _ in false }
    ) throws -> [CopyItem] {
        // `relative` is the path in the tree with symlinks resolved. `named` is the path as the
        // instruction spelled it, because that names the copy and is kept under --parents.
        var matches = [(relative: String, info: FileInfo)]()
        var named = [String]()
        for source in sources {
            let pattern: GlobPattern
            do {
                pattern = try GlobPattern(source)
            } catch let error as GlobPattern.SyntaxError {
                throw BuildError.invalidInstruction(location, "invalid \(keyword) source pattern \"\(source)\": \(error)")
            }

            if pattern.hasWildcards {
                var found = [(String, FileInfo)]()
                try walk("") { relative, info in
                    if pattern.matches(relative) {
                        found.append((relative, info))
                        return false
                    }
                    return true
                }
                guard !found.isEmpty else {
                    throw BuildError.invalidInstruction(location, "\(keyword) source \"\(source)\" matches no file in \(description)")
                }
                matches += found.map { (relative: $0.0, info: $0.1) }
                named += found.map(\.0)
                continue
            }

            guard !isIgnored(source) else {
                throw BuildError.invalidInstruction(location, "\(keyword) source \"\(source)\" is excluded by the ignore rules")
            }
            let resolved = try resolve(source)
            matches.append((resolved, try info(atPath: path(resolved), follow: false)))
            named.append(source)
        }

        let intoDirectory = destinationIsDirectory || matches.count > 1 || isDirectoryInImage(destination)
            || matches.contains { $0.info.isDirectory }
        if matches.count > 1 && !destinationIsDirectory && !isDirectoryInImage(destination) {
            throw BuildError.invalidInstruction(
                location, "\(keyword) copies more than one file, so the destination must be a directory ending in /, got \(destination)")
        }

        var items = [CopyItem]()
        for (match, spelled) in zip(matches, named) {
            if match.info.isDirectory {
                let base = match.relative == "." ? "" : match.relative
                let spelledBase = LexicalPath.clean(spelled) == "." ? "" : LexicalPath.clean(spelled)
                try walk(base, excludesBelow: base) { relative, info in
                    var inner = base.isEmpty ? relative : String(relative.dropFirst(base.count + 1))
                    if keepingParents && !spelledBase.isEmpty { inner = spelledBase + "/" + inner }
                    items.append(item(relative, info, destination: LexicalPath.resolve(inner, against: destination)))
                    return true
                }
            } else {
                let name = (LexicalPath.clean(spelled) as NSString).lastPathComponent
                // NOTE: --exclude is matched against a file source's name and against paths
                // inside a directory source; buildkit's own rule for file sources is unverified.
                if excludes.excludes(name) { continue }
                let target: String
                if keepingParents {
                    target = LexicalPath.resolve(spelled, against: destination)
                } else {
                    target = intoDirectory ? LexicalPath.resolve(name, against: destination) : destination
                }
                items.append(item(match.relative, match.info, destination: target))
            }
        }
        return items
    }

    private func item(_ relative: String, _ info: FileInfo, destination: String) -> CopyItem {
        CopyItem(
            sourcePath: path(relative), destination: destination, kind: info.kind, mode: info.mode, mtime: info.mtime,
            identity: info.identity)
    }

    private func path(_ relative: String) -> String {
        relative.isEmpty || relative == "." ? root : root + "/" + relative
    }

    // MARK: - File system

    struct FileInfo {
        let kind: CopyItem.Kind
        let mode: UInt32
        let mtime: Int64
        let identity: FileIdentity
        var isDirectory: Bool { kind == .directory }
    }

    private func info(atPath path: String, follow: Bool) throws -> FileInfo {
        var status = stat()
        let result = follow ? stat(path, &status) : lstat(path, &status)
        guard result == 0 else {
            if errno == ENOENT {
                let relative = path == root ? "." : String(path.dropFirst(root.count + 1))
                throw BuildError.invalidInstruction(location, "\(keyword) source \"\(relative)\" not found in \(description)")
            }
            throw BuildError.io(SystemError(follow ? "stat" : "lstat", path: path))
        }
        let kind: CopyItem.Kind
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            kind = .directory
        case S_IFREG:
            kind = .regularFile(size: Int64(status.st_size))
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            kind = .symlink(target: target)
        default:
            throw BuildError.invalidInstruction(location, "\(keyword) cannot copy \(path): it is neither a file, a directory nor a symlink")
        }
        return FileInfo(
            kind: kind, mode: UInt32(status.st_mode & 0o7777), mtime: Int64(status.st_mtim.tv_sec), identity: FileIdentity(status))
    }

    /// Resolves a named source inside the root, every symlink on its path included.
    private func resolve(_ relative: String) throws -> String {
        do {
            return try rooted.resolve(relative)
        } catch let error as SystemError where error.errno == ENOENT || error.errno == ENOTDIR {
            throw BuildError.invalidInstruction(location, "\(keyword) source \"\(relative)\" not found in \(description)")
        } catch let error as SystemError where error.errno == ELOOP {
            throw BuildError.invalidInstruction(location, "\(keyword) source \"\(relative)\" passes through too many symlinks in \(description)")
        } catch let error as SystemError {
            throw BuildError.io(error)
        }
    }

    /// Walks below `relative` in byte order of names; `visit` gets each path relative to the
    /// root and returns whether to descend into a directory. Ignored paths are skipped, and so
    /// are paths that `--exclude` matches relative to `excludesBelow` when that is given. An
    /// excluded directory is still entered when an exception could bring back something below it.
    private func walk(_ relative: String, excludesBelow base: String? = nil, _ visit: (String, FileInfo) throws -> Bool) throws {
        let directory = path(relative)
        for name in try Self.names(in: directory).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let child = relative.isEmpty ? name : relative + "/" + name
            let childInfo = try info(atPath: path(child), follow: false)
            var excluded = isIgnored(child)
            if let base, !excluded {
                excluded = excludes.excludes(base.isEmpty ? child : String(child.dropFirst(base.count + 1)))
            }
            if excluded {
                let exceptions = ignore.hasExceptions || (base != nil && excludes.hasExceptions)
                if childInfo.isDirectory && exceptions { try walk(child, excludesBelow: base, visit) }
                continue
            }
            if try visit(child, childInfo), childInfo.isDirectory {
                try walk(child, excludesBelow: base, visit)
            }
        }
    }

    /// The names in `directory` without `.` and `..`.
    static func names(in directory: String) throws -> [String] {
        guard let stream = opendir(directory) else { throw BuildError.io(SystemError("open directory", path: directory)) }
        defer { closedir(stream) }
        var names = [String]()
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw BuildError.io(SystemError("read directory", path: directory)) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    // MARK: - Content digest

    /// Hashes what the items put into the image: paths, kinds, modes, link targets and file
    /// data, but not times, so the cache key of a COPY changes exactly when its result does.
    /// File data enters through each file's own digest, which `files` remembers across builds.
    public static func contentDigest(_ items: [CopyItem], files: FileDigestCache? = nil) throws -> Digest {
        let files = files ?? FileDigestCache(path: nil, temporaryDirectory: "")
        var hasher = SHA256Hasher()
        for item in items {
            var header = "\(item.destination)\u{0}\(String(item.mode, radix: 8))\u{0}"
            switch item.kind {
            case .directory: header += "d"
            case .regularFile(let size):
                header += "f\(size)\u{0}\(try files.digest(ofFileAt: item.sourcePath, known: item.identity))"
            case .symlink(let target): header += "l\(target)"
            }
            hasher.update(Data((header + "\u{0}").utf8))
        }
        return hasher.finalize()
    }
}
