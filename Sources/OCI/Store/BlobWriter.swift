import Foundation

/// A blob being written into the store: bytes go to a temporary file under `<root>/tmp`,
/// hashed as they are written, and appear under `blobs/sha256/` only on `commit`.
///
/// A writer that is dropped without `commit`, or a process killed while writing, leaves only
/// a temporary file, which `ContentStore.garbageCollect` removes; nothing half-written is ever
/// visible under `blobs/`.
public final class BlobWriter: ByteSink {
    private let store: ContentStore
    private let temporaryPath: String
    private let file: FileSink
    private var hasher = SHA256Hasher()
    private var finished = false

    init(store: ContentStore) throws {
        self.store = store
        file = try FileSink(temporaryIn: store.root.tmp, prefix: "blob-")
        temporaryPath = file.path
    }

    deinit {
        if !finished { unlink(temporaryPath) }
    }

    /// The number of bytes written so far.
    public var count: Int64 { hasher.count }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        let isFirstWrite = hasher.count == 0
        try file.write(buffer)
        hasher.update(buffer)
        if isFirstWrite && !buffer.isEmpty { DurableStep.completed("first write to temporary blob \(temporaryPath)") }
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Makes the blob durable and visible under its digest.
    ///
    /// - Parameter expected: when given, the digest the content must have; a mismatch removes
    ///   the temporary file and throws naming both digests.
    /// - Parameter expectedSize: when given, the size the content must have.
    public func commit(mediaType: MediaType, expected: Digest? = nil, expectedSize: Int64? = nil) throws -> Descriptor {
        precondition(!finished, "BlobWriter.commit called twice")
        finished = true
        let digest = hasher.finalize()
        do {
            if let expectedSize, expectedSize != hasher.count {
                throw OCIError.sizeMismatch(object: "blob \(expected.map(\.description) ?? digest.description)", expected: expectedSize, actual: hasher.count)
            }
            if let expected, expected != digest {
                throw OCIError.digestMismatch(object: "blob \(expected)", expected: expected, actual: digest)
            }
            // fsync before rename: after a crash the name must never point at missing data.
            try file.sync()
            try store.install(temporaryPath: temporaryPath, as: digest)
        } catch {
            unlink(temporaryPath)
            throw error
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: hasher.count)
    }

    /// Drops what was written.
    public func abort() {
        guard !finished else { return }
        finished = true
        unlink(temporaryPath)
    }
}
