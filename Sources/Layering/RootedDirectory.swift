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
final class RootedDirectory {
    let path: String
    let descriptor: Int32

    init(path: String) throws {
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

    static func join(_ components: some Collection<[UInt8]>) -> [UInt8] {
        components.isEmpty ? [0x2e] : Array(components.joined(separator: [0x2f]))
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
