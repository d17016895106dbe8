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
        var entries = 0
        while let entry = try reader.nextEntry() {
            _ = try RootedDirectory.components(of: entry.path, entry: entry.displayPath)
            if case .hardlink(let target) = entry.kind {
                _ = try RootedDirectory.components(of: target, entry: entry.displayPath)
            }
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
