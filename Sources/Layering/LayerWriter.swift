import CArchive
import Foundation
import OCI

/// Writes one layer: a PAX tar stream, compressed, into a `ByteSink`, computing the diffID
/// (SHA-256 of the tar), the blob digest and the blob size in the same pass.
///
/// Memory stays bounded whatever the layer size: file data goes through a 1 MiB buffer and
/// compression holds at most two batches of blocks.
public final class LayerWriter {
    public struct Options: Sendable {
        public var compression: LayerCompression
        /// The compression level; nil selects 5 for gzip through libdeflate, 6 through zlib, and 3 for zstd.
        public var level: Int?
        public var gzipEngine: GzipEngine
        /// Seconds since the epoch (`SOURCE_DATE_EPOCH`): every later mtime is clamped to it.
        public var timestamp: Int64?
        /// Threads for compression; the output does not depend on it.
        public var threads: Int

        public init(
            compression: LayerCompression = .gzip, level: Int? = nil, gzipEngine: GzipEngine = .libdeflate,
            timestamp: Int64? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount
        ) {
            self.compression = compression
            self.level = level
            self.gzipEngine = gzipEngine
            self.timestamp = timestamp
            self.threads = threads
        }
    }

    /// The gzip implementation; see `ParallelGzipSink.Engine`. libdeflate is the default
    /// because it compresses about twice as fast as zlib at the same level and ratio.
    public enum GzipEngine: String, Sendable {
        case zlib
        case libdeflate
    }

    /// The digests, size and media type of a finished layer.
    public struct Result: Sendable, Equatable {
        public var diffID: Digest
        public var digest: Digest
        public var size: Int64
        public var compression: LayerCompression
        public var mediaType: MediaType { compression.ociMediaType }
    }

    private struct FileID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public let options: Options
    private let blob: DigestingSink
    private let background: BackgroundSink
    private let compressor: CompressingSink
    private let tar: DigestingSink
    private let archive: ArchiveWriter
    private let log: any LogSink
    private var hardlinks: [FileID: [UInt8]] = [:]
    private var buffer: UnsafeMutableRawBufferPointer
    private var finished = false

    public init(sink: ByteSink, options: Options = Options(), log: any LogSink = SilentLog()) throws {
        self.options = options
        self.log = log
        blob = DigestingSink(output: sink)
        // Hashing and storing the compressed bytes run on their own thread.
        background = BackgroundSink(output: blob)
        compressor = try options.makeCompressor(output: background)
        tar = DigestingSink(output: compressor)
        archive = try ArchiveWriter(sink: tar)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Clamps `mtime` to the timestamp option.
    func clamp(_ mtime: Int64) -> Int64 {
        guard let timestamp = options.timestamp else { return mtime }
        return min(mtime, timestamp)
    }

    /// Adds an entry whose data, for a regular file, `data` writes through its argument.
    public func add(_ entry: LayerEntry, data: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void = { _ in }) throws {
        var entry = entry
        entry.mtime = clamp(entry.mtime)
        try archive.writeHeader(entry)
        if case .regular = entry.kind {
            try data { try archive.write(data: $0, path: entry.path) }
        }
    }

    /// Adds `.wh.NAME` for `path`: the layer deletes `path` from the layers below.
    public func addWhiteout(for path: [UInt8]) throws {
        let (directory, name) = Whiteout.split(path)
        try archive.writeHeader(LayerEntry(path: directory + Whiteout.prefix + name, kind: .regular(size: 0), mode: 0))
    }

    /// Adds `.wh..wh..opq` in `directory`: the layer hides everything the layers below hold there.
    public func addOpaqueWhiteout(directory: [UInt8]) throws {
        let path = directory.isEmpty ? Whiteout.opaque : directory + [0x2f] + Whiteout.opaque
        try archive.writeHeader(LayerEntry(path: path, kind: .regular(size: 0), mode: 0))
    }

    /// Adds everything below `directory` (not the directory itself), in sorted order.
    ///
    /// - Parameters:
    ///   - prefix: the path in the layer that `directory` stands for, such as `app` for a
    ///     Dockerfile `COPY . /app`; empty for the layer root. The caller adds the entries of
    ///     the prefix's own directories.
    ///   - owner: when given, the uid and gid of every entry (`COPY --chown`).
    public func addTree(at directory: String, under prefix: String = "", owner: (uid: UInt32, gid: UInt32)? = nil) throws {
        let base = Array(prefix.utf8.drop { $0 == 0x2f })
        try TreeWalker.walk(root: directory) { relative, absolute, status in
            let path = base.isEmpty ? relative : base + [0x2f] + relative
            try addFile(relative: path, absolute: absolute, status: status, owner: owner)
            return true
        }
    }

    /// Adds the host file, directory or symlink at `hostPath` as `path` in the layer, without
    /// what a directory contains.
    public func addFile(at hostPath: String, as path: String, owner: (uid: UInt32, gid: UInt32)? = nil) throws {
        let absolute = Array(hostPath.utf8)
        let status = try TreeWalker.lstatus(absolute)
        try addFile(relative: Array(path.utf8.drop { $0 == 0x2f }), absolute: absolute, status: status, owner: owner)
    }

    /// Adds one file of a host tree: metadata, xattrs, hardlinks by inode, and data.
    func addFile(relative: [UInt8], absolute: [UInt8], status: stat, owner: (uid: UInt32, gid: UInt32)? = nil) throws {
        let type = status.st_mode & S_IFMT
        var mode = UInt32(status.st_mode) & 0o7777
        var uid = status.st_uid
        var gid = status.st_gid
        var xattrs = [LayerEntry.ExtendedAttribute]()
        if type != S_IFLNK {
            for attribute in try TreeWalker.extendedAttributes(of: absolute) {
                if attribute.name == OwnershipRecord.attributeName {
                    // An unprivileged unpack could not apply these; the layer gets the originals.
                    if let record = OwnershipRecord(encoded: attribute.value) {
                        uid = record.uid
                        gid = record.gid
                        mode = record.mode
                    }
                } else if attribute.name == FileCapability.attributeName {
                    xattrs.append(.init(name: attribute.name, value: FileCapability.portable(attribute.value)))
                } else if attribute.name.hasPrefix("user.") && !attribute.name.hasPrefix("user.overlay.") {
                    xattrs.append(attribute)
                }
                // Everything else stays on the host: trusted.overlay.* and user.overlay.* are
                // overlayfs's own bookkeeping, and security.selinux labels belong to the host.
            }
        }

        if let owner {
            uid = owner.uid
            gid = owner.gid
        }

        var entry = LayerEntry(
            path: relative, kind: .directory, mode: mode, uid: uid, gid: gid, mtime: Int64(status.st_mtim.tv_sec),
            xattrs: xattrs)
        let id = FileID(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        switch type {
        case S_IFDIR:
            entry.kind = .directory
        case S_IFREG:
            if status.st_nlink > 1 {
                if let first = hardlinks[id] {
                    entry.kind = .hardlink(target: first)
                    entry.xattrs = []
                    return try add(entry)
                }
                hardlinks[id] = relative
            }
            entry.kind = .regular(size: Int64(status.st_size))
            return try add(entry) { write in try copyData(of: absolute, size: Int64(status.st_size), to: write) }
        case S_IFLNK:
            entry.kind = .symlink(target: try readLink(absolute, size: Int(status.st_size)))
        case S_IFCHR:
            entry.kind = .characterDevice(major: crib_major(status.st_rdev), minor: crib_minor(status.st_rdev))
        case S_IFBLK:
            entry.kind = .blockDevice(major: crib_major(status.st_rdev), minor: crib_minor(status.st_rdev))
        case S_IFIFO:
            entry.kind = .fifo
        default:
            // Sockets belong to a running process and tar has no type for them.
            log.log(.warning, "skipped socket \(TreeWalker.display(absolute)): tar layers cannot hold sockets")
            return
        }
        try add(entry)
    }

    private func readLink(_ path: [UInt8], size: Int) throws -> [UInt8] {
        var target = [UInt8](repeating: 0, count: max(size, 255) + 1)
        let length = TreeWalker.withPath(path) { pointer in
            target.withUnsafeMutableBufferPointer { readlink(pointer, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard length >= 0 else { throw SystemError("read symlink", path: TreeWalker.display(path)) }
        return Array(target[..<length])
    }

    private func copyData(of path: [UInt8], size: Int64, to write: (UnsafeRawBufferPointer) throws -> Void) throws {
        let descriptor = TreeWalker.withPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard descriptor >= 0 else { throw SystemError("open", path: TreeWalker.display(path)) }
        defer { close(descriptor) }
        var remaining = size
        while remaining > 0 {
            let count = read(descriptor, buffer.baseAddress, min(buffer.count, Int(remaining)))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw SystemError("read", path: TreeWalker.display(path)) }
            // A file that shrank while it was read: libarchive pads the entry with zeros to the size in its header.
            if count == 0 { break }
            try write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            remaining -= Int64(count)
        }
    }

    /// Ends the tar stream and the compression, and returns the layer's digests and size.
    public func finish() throws -> Result {
        precondition(!finished, "LayerWriter.finish called twice")
        finished = true
        try archive.close()
        try compressor.finish()
        try background.finish()
        return Result(diffID: tar.finalize(), digest: blob.finalize(), size: blob.count, compression: options.compression)
    }
}
