import OCI

/// Layers made from an existing tar file, as `crib import` takes them.
public enum TarballLayer {
    /// Copies the tar stream in `source` (plain, gzip or zstd) into `sink`, compressed with the
    /// compression and level of `options`, and returns the layer's digests and size.
    ///
    /// The stream is read as tar while it is copied, so a file that is not a tar archive, or
    /// an entry whose path climbs above the root, fails with the entry named. The tar bytes
    /// are kept as they are, so the diffID is the SHA-256 of the uncompressed input.
    /// NOTE: the timestamp option does not apply here because entries are copied unchanged.
    public static func recompress(
        _ source: ByteSource, name: String, to sink: ByteSink, options: LayerWriter.Options
    ) throws -> LayerWriter.Result {
        let blob = DigestingSink(output: sink)
        let background = BackgroundSink(output: blob)
        let compressor = try options.makeCompressor(output: background)
        let tar = DigestingSink(output: compressor)
        let tee = TeeSource(source: DecompressingSource(source: source), copy: tar)

        let reader = try ArchiveReader(source: tee, name: name)
        var symlinks = SymlinkTracker()
        var entries = 0
        while let entry = try reader.nextEntry() {
            let components = try RootedDirectory.components(of: entry.path, entry: entry.displayPath)
            try symlinks.check(components, entry: entry.displayPath)
            if case .hardlink(let target) = entry.kind {
                let targetComponents = try RootedDirectory.components(of: target, entry: entry.displayPath)
                try symlinks.check(targetComponents, entry: entry.displayPath)
            }
            var isSymlink = false
            if case .symlink = entry.kind { isSymlink = true }
            symlinks.record(components, isSymlink: isSymlink)
            entries += 1
        }
        guard entries > 0 else {
            throw LayeringError.invalidSource(path: name, reason: "the tar archive has no entries")
        }
        try tee.drain()
        try compressor.finish()
        try background.finish()
        return LayerWriter.Result(diffID: tar.finalize(), digest: blob.finalize(), size: blob.count, compression: options.compression)
    }
}

/// The symlinks an archive has created so far, so that an entry whose path goes through one
/// is rejected when the tarball is imported. The unpacker never follows such a path (it
/// opens every parent with O_NOFOLLOW), so without this check the image would be stored and
/// only fail later, at `crib run` or `crib unpack`. A tar written from a real file tree
/// never contains such a path.
struct SymlinkTracker {
    private var paths = Set<[UInt8]>()

    /// Throws when a proper prefix of `components` is a symlink the archive created.
    func check(_ components: [[UInt8]], entry: String) throws {
        guard !paths.isEmpty, components.count > 1 else { return }
        var prefix = [UInt8]()
        for name in components.dropLast() {
            if !prefix.isEmpty { prefix.append(0x2f) }
            prefix.append(contentsOf: name)
            if paths.contains(prefix) {
                throw LayeringError.unsafePath(
                    entry: entry, reason: "path goes through the symlink \(String(decoding: prefix, as: UTF8.self)) the archive created")
            }
        }
    }

    /// Notes the entry at `components`: a symlink is remembered, and any other entry at a
    /// remembered path replaces that symlink.
    mutating func record(_ components: [[UInt8]], isSymlink: Bool) {
        let path = RootedDirectory.join(components)
        if isSymlink {
            paths.insert(path)
        } else if !paths.isEmpty {
            paths.remove(path)
        }
    }
}

/// A source that copies everything read from it into a sink.
final class TeeSource: ByteSource {
    private let source: ByteSource
    private let copy: ByteSink

    init(source: ByteSource, copy: ByteSink) {
        self.source = source
        self.copy = copy
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try source.read(into: buffer)
        try copy.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        return count
    }

    /// Reads to the end, so that bytes after the end-of-archive marker are copied too.
    func drain() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
    }
}
