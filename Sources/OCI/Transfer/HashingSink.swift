/// A sink that hashes what passes through to another sink, for destinations without a
/// blob writer of their own (staging files, archives).
final class HashingSink: ByteSink {
    private let target: any ByteSink
    private var hasher = SHA256Hasher()

    init(_ target: any ByteSink) {
        self.target = target
    }

    var count: Int64 { hasher.count }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try target.write(buffer)
        hasher.update(buffer)
    }

    /// The digest of everything written; the sink must not be used afterwards.
    func finalize() -> Digest { hasher.finalize() }

    /// Throws unless the content had the descriptor's size and digest.
    func verify(_ descriptor: Descriptor, object: String) throws {
        guard hasher.count == descriptor.size else {
            throw OCIError.sizeMismatch(object: object, expected: descriptor.size, actual: hasher.count)
        }
        let actual = hasher.finalize()
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(object: object, expected: descriptor.digest, actual: actual)
        }
    }
}
