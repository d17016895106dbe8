import Foundation
import Layering
import OCI

/// Digests of context files keyed by what `stat` returns for them, so that a rebuild reads
/// only the files that changed since the last build, as buildkit's content cache does.
///
/// A file counts as unchanged while its device, inode, size, mtime and ctime (both in
/// nanoseconds) are the same. ctime changes on every write and metadata change and cannot
/// be set back by a process, so a rewritten file is always hashed again.
public final class FileDigestCache {
    struct Record: Codable {
        var identity: FileIdentity
        var digest: Digest
    }

    private let path: String?
    private let temporaryDirectory: String
    private var records: [String: Record]
    private var changed = false

    /// Opens the cache stored at `path`; nil keeps it in memory only.
    public init(path: String?, temporaryDirectory: String) {
        self.path = path
        self.temporaryDirectory = temporaryDirectory
        if let path, let data = FileManager.default.contents(atPath: path),
            let stored = try? JSONDecoder().decode([String: Record].self, from: data)
        {
            records = stored
        } else {
            records = [:]
        }
    }

    /// Returns the SHA-256 of the file at `path`, from the cache when its stat is unchanged.
    /// `known` is the file's identity when the caller has just stat'ed it, which saves an open.
    public func digest(ofFileAt path: String, known: FileIdentity? = nil) throws -> Digest {
        if let known, let record = records[path], record.identity == known { return record.digest }

        // Selected paths pass through no symlink; refusing one keeps a link swapped in since out of the digest.
        let descriptor = try RootedDirectory.openWithoutSymlinks(path)
        defer { close(descriptor) }
        var status = stat()
        try checkSyscall("stat", path: path) { fstat(descriptor, &status) }
        let identity = FileIdentity(status)
        if let record = records[path], record.identity == identity { return record.digest }

        var hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try checkSyscall("read", path: path) { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        let digest = hasher.finalize()
        records[path] = Record(identity: identity, digest: digest)
        changed = true
        return digest
    }

    /// Writes the cache back when a digest was added or replaced.
    public func save() throws {
        guard changed, let path else { return }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        try ContentStore.writeAtomically(try JSONEncoder().encode(records), to: path, temporaryDirectory: temporaryDirectory)
        changed = false
    }
}
