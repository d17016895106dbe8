import CArchive
import Foundation
import OCI

/// A depth-first walk of a host directory with siblings in byte order, so that the same
/// tree always gives the same sequence of entries whatever order readdir returns.
///
/// The walk uses path strings: it reads trees that crib or its caller own, such as a build
/// context or an overlay upper directory, never a layer being unpacked.
enum TreeWalker {
    /// Calls `visit` with the path relative to `root`, the absolute path and the lstat of
    /// every entry below `root`. For a directory, `visit` returns whether to descend into it.
    static func walk(
        root: String, _ visit: (_ relative: [UInt8], _ absolute: [UInt8], _ status: stat) throws -> Bool
    ) throws {
        let rootBytes = Array(root.utf8)
        try descend(absolute: rootBytes, relative: [], visit)
    }

    private static func descend(
        absolute: [UInt8], relative: [UInt8],
        _ visit: (_ relative: [UInt8], _ absolute: [UInt8], _ status: stat) throws -> Bool
    ) throws {
        for name in try sortedNames(in: absolute) {
            let childAbsolute = absolute + [0x2f] + name
            let childRelative = relative.isEmpty ? name : relative + [0x2f] + name
            let status = try lstatus(childAbsolute)
            let descendInto = try visit(childRelative, childAbsolute, status)
            if descendInto && status.st_mode & S_IFMT == S_IFDIR {
                try descend(absolute: childAbsolute, relative: childRelative, visit)
            }
        }
    }

    /// Returns the names in a directory, without `.` and `..`, sorted by byte value.
    static func sortedNames(in directory: [UInt8]) throws -> [[UInt8]] {
        guard let stream = withPath(directory, { opendir($0) }) else {
            throw SystemError("open directory", path: display(directory))
        }
        defer { closedir(stream) }
        var names = [[UInt8]]()
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemError("read directory", path: display(directory)) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }

    static func lstatus(_ path: [UInt8]) throws -> stat {
        var status = stat()
        guard withPath(path, { lstat($0, &status) }) == 0 else {
            throw SystemError("stat", path: display(path))
        }
        return status
    }

    /// Returns the extended attributes of `path` (not following a symlink), sorted by name.
    static func extendedAttributes(of path: [UInt8]) throws -> [LayerEntry.ExtendedAttribute] {
        var size = withPath(path) { llistxattr($0, nil, 0) }
        if size < 0 {
            if errno == ENOTSUP { return [] }
            throw SystemError("list xattrs of", path: display(path))
        }
        guard size > 0 else { return [] }
        var list = [CChar](repeating: 0, count: size)
        size = withPath(path) { llistxattr($0, &list, list.count) }
        guard size >= 0 else { throw SystemError("list xattrs of", path: display(path)) }

        var attributes = [LayerEntry.ExtendedAttribute]()
        for nameBytes in list[..<size].split(separator: 0) {
            let name = String(decoding: nameBytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let length = withPath(path) { lgetxattr($0, name, nil, 0) }
            // The attribute may vanish between list and get; skip it then.
            if length < 0 && errno == ENODATA { continue }
            guard length >= 0 else { throw SystemError("read xattr \(name) of", path: display(path)) }
            var value = [UInt8](repeating: 0, count: length)
            let read = withPath(path) { lgetxattr($0, name, &value, value.count) }
            guard read >= 0 else { throw SystemError("read xattr \(name) of", path: display(path)) }
            attributes.append(.init(name: name, value: Array(value[..<read])))
        }
        attributes.sort { $0.name < $1.name }
        return attributes
    }

    static func withPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (path + [0]).withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }

    static func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }
}
