import OCI

/// A sink that compresses what it is given into another sink; `finish` writes the trailer.
protocol CompressingSink: ByteSink {
    func finish() throws
}

/// The identity compression.
final class PassthroughSink: CompressingSink {
    private let output: ByteSink

    init(output: ByteSink) {
        self.output = output
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try output.write(buffer)
    }

    func finish() throws {}
}

extension LayerWriter.Options {
    /// Creates the sink that compresses into `output` with this compression and level.
    func makeCompressor(output: ByteSink) throws -> CompressingSink {
        switch compression {
        case .none:
            return PassthroughSink(output: output)
        case .gzip:
            // libdeflate's level 5 compresses a Debian root file system as small as zlib's
            // level 6 (bench/layering.sh), in less time.
            let engine: ParallelGzipSink.Engine = gzipEngine == .zlib ? .zlib : .libdeflate
            return ParallelGzipSink(output: output, level: level ?? (engine == .zlib ? 6 : 5), engine: engine, threads: threads)
        case .zstd:
            return try ZstdSink(output: output, level: level ?? 3, threads: threads)
        }
    }
}
