import CArchive
import Foundation
import OCI

/// O_PATH, which the Glibc module does not export; this is its value on x86-64 and arm64.
let openPathOnly: Int32 = 0o10000000

/// A directory that acts as the root for every path below it.
///
/// Paths are resolved by the kernel with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
/// `..` stops at the root and symlinks, absolute or relative, resolve as if the root were
/// `/`, so nothing resolved through this type can name a file outside it. Host paths are
/// never joined as strings; callers get descriptors and work on the last name with *at calls.
public final class RootedDirectory {
    public let path: String
    let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        descriptor = try checkSyscall("open", path: path) { Foundation.open(path, openPathOnly | O_DIRECTORY | O_CLOEXEC) }
    }

    deinit { close(descriptor) }

    /// Splits a path from a layer into names, without empty names and `.`; a `..` removes
    /// the name before it. A leading `/` means the root, as in every tar reader.
    ///
    /// - Throws: `LayeringError.unsafePath` naming `entry` when `..` would climb above the root.
    static func components(of path: [UInt8], entry: String) throws -> [[UInt8]] {
        var components = [[UInt8]]()
        for name in path.split(separator: 0x2f, omittingEmptySubsequences: true) {
            if name.elementsEqual([0x2e]) { continue }
            if name.elementsEqual([0x2e, 0x2e]) {
                guard !components.isEmpty else {
                    throw LayeringError.unsafePath(entry: entry, reason: "path climbs above the layer root")
                }
                components.removeLast()
                continue
            }
            components.append(Array(name))
        }
        return components
    }

    public static func join(_ components: some Collection<[UInt8]>) -> [UInt8] {
        components.isEmpty ? [0x2e] : Array(components.joined(separator: [0x2f]))
    }

    /// Resolves `relative` inside the root, following every symlink on the way, the last name
    /// included, as if the root were `/`. Returns the path of the result relative to the
    /// root, free of symlinks, `.` and `..`; "." for the root itself.
    ///
    /// - Throws: a `SystemError` with ENOENT or ENOTDIR when nothing is there, so callers can
    ///   report a missing source.
    public func resolve(_ relative: String) throws -> String {
        let components = Array(relative.utf8).split(separator: 0x2f, omittingEmptySubsequences: true).map(Array.init)
        let found = try open(components, flags: openPathOnly)
        defer { close(found) }
        // /proc/self/fd shows the path the kernel reached, so no lookup is repeated in user space.
        let rootPath = try Self.hostPath(of: descriptor)
        let foundPath = try Self.hostPath(of: found)
        if foundPath == rootPath { return "." }
        let prefix = rootPath == "/" ? "/" : rootPath + "/"
        guard foundPath.hasPrefix(prefix) else {
            throw LayeringError.unsafePath(entry: relative, reason: "resolved to \(foundPath), outside \(rootPath)")
        }
        return String(foundPath.dropFirst(prefix.count))
    }

    /// Returns the host path of the root with every symlink resolved. Joined to a result of
    /// `resolve`, it names a file without passing through a symlink.
    public func canonicalPath() throws -> String {
        try Self.hostPath(of: descriptor)
    }

    private static func hostPath(of descriptor: Int32) throws -> String {
        let link = "/proc/self/fd/\(descriptor)"
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = buffer.withUnsafeMutableBufferPointer {
            readlink(link, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count)
        }
        guard length >= 0 else { throw SystemError("read symlink", path: link) }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }

    /// Opens the host file at `path` for reading without following any symlink in any of
    /// its components, so a path that `resolve` produced cannot be redirected by a symlink
    /// swapped in after it was resolved.
    public static func openWithoutSymlinks(_ path: String) throws -> Int32 {
        while true {
            let descriptor = crib_openat2(AT_FDCWD, path, UInt64(O_RDONLY | O_CLOEXEC), UInt64(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS))
            if descriptor >= 0 { return descriptor }
            if errno == EINTR || errno == EAGAIN { continue }
            throw SystemError("open", path: path)
        }
    }

    /// Opens `components` below the root. Errors carry errno so that callers can tell a
    /// missing file (ENOENT) from a symlink where `O_NOFOLLOW` forbids one (ELOOP).
    func open(_ components: some Collection<[UInt8]>, flags: Int32) throws -> Int32 {
        let relative = Self.join(components)
        while true {
            let descriptor = TreeWalker.withPath(relative) {
                crib_openat2(self.descriptor, $0, UInt64(flags | O_CLOEXEC), UInt64(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS))
            }
            if descriptor >= 0 { return descriptor }
            // EAGAIN means a rename elsewhere in the tree raced with the lookup, and the kernel requests a retry.
            if errno == EINTR || errno == EAGAIN { continue }
            throw SystemError("open", path: path + "/" + TreeWalker.display(relative))
        }
    }

    /// Opens the directory `components`, creating missing directories with mode 0755 the way
    /// `mkdir -p` does. Each one is created with mkdirat in a parent that was itself resolved
    /// inside the root, so a symlink on the way cannot redirect the creation outside.
    func openDirectory(_ components: [[UInt8]], create: Bool) throws -> Int32 {
        do {
            return try open(components, flags: openPathOnly | O_DIRECTORY)
        } catch let error as SystemError where error.errno == ENOENT && create {
            var parent = try open([[UInt8]](), flags: openPathOnly | O_DIRECTORY)
            defer { close(parent) }
            for depth in components.indices {
                let prefix = components[...depth]
                let next: Int32
                if let existing = try? open(prefix, flags: openPathOnly | O_DIRECTORY) {
                    next = existing
                } else {
                    let mkdirStatus = TreeWalker.withPath(components[depth]) { mkdirat(parent, $0, 0o755) }
                    if mkdirStatus != 0 && errno != EEXIST {
                        throw SystemError("create directory", path: path + "/" + TreeWalker.display(Self.join(prefix)))
                    }
                    next = try open(prefix, flags: openPathOnly | O_DIRECTORY)
                }
                close(parent)
                parent = next
            }
            let result = dup(parent)
            guard result >= 0 else { throw SystemError("dup", path: path) }
            return result
        }
    }
}
