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
