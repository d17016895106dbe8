import OCI

/// A sink that hashes and counts what passes through it on the way to another sink.
final class DigestingSink: ByteSink {
    private let output: ByteSink?
    private var hasher = SHA256Hasher()

    /// With no output the sink only hashes, as for the diffID of a tar stream.
    init(output: ByteSink?) {
        self.output = output
    }

    var count: Int64 { hasher.count }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        hasher.update(buffer)
        try output?.write(buffer)
    }

    func finalize() -> Digest { hasher.finalize() }
}
