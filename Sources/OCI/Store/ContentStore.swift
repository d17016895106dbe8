import Foundation

/// crib's image store: an OCI image layout under `<root>/store` that skopeo and umoci read as it is.
///
/// Blobs are written to `<root>/tmp`, hashed while written, fsynced and renamed into
/// `blobs/sha256/`. index.json is replaced the same way under `<root>/index.lock`. Every blob
/// read is checked against its digest. Tags are manifest entries in index.json carrying the
/// `org.opencontainers.image.ref.name` annotation with the fully qualified name.
public final class ContentStore {
    /// Manifests, indexes and configs larger than this are rejected before they are parsed.
    public static let maximumMetadataSize: Int64 = 8 << 20

    public let root: RootDirectory
    let log: any LogSink
    /// Nil in a store opened for reading, which takes no locks.
    private let indexLock: FileLock?
    /// Held shared by every store that writes, exclusively by garbage collection, so that a
    /// collection never removes a blob that a running build or pull is about to reference.
    private let usageLock: FileLock?
    private var holdsUsage = false
    /// How many `withExclusiveUsage` calls are running, so that a nested one runs its body at once.
    private var exclusiveDepth = 0

    /// Opens the store under `root`, creating it unless `readOnly`.
    ///
    /// A read-only store creates nothing and takes no locks, so that listing works on a root
    /// that does not exist (an empty store) or that is mounted read-only. index.json is replaced
    /// by rename, so a reader without the lock still reads a whole file.
    public init(root: RootDirectory, log: any LogSink = SilentLog(), readOnly: Bool = false) throws {
        self.root = root
        self.log = log
        if readOnly {
            indexLock = nil
            usageLock = nil
            return
        }
        for directory in [root.path, root.store, root.store + "/blobs", root.store + "/blobs/sha256", root.tmp] {
            try ContentStore.makeDirectory(directory)
        }
        indexLock = try FileLock(path: root.path + "/index.lock")
        usageLock = try FileLock(path: root.path + "/usage.lock")
        try removeInterruptedWork()
        try initializeLayout()
    }

    /// Whether the store was opened for reading only.
    public var isReadOnly: Bool { indexLock == nil }

    // MARK: - Blobs

    /// Returns the path of a blob, whether or not it exists.
    public func blobPath(_ digest: Digest) -> String {
        "\(root.store)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    public func hasBlob(_ digest: Digest) -> Bool {
        access(blobPath(digest), F_OK) == 0
    }

    /// Starts a blob; bytes written to the returned writer appear in the store on `commit`.
    public func beginBlob() throws -> BlobWriter {
        try holdForWriting()
        return try BlobWriter(store: self)
    }

    /// Stores `data` and returns its descriptor; storing content that exists already is cheap.
    @discardableResult
    public func writeBlob(_ data: Data, mediaType: MediaType) throws -> Descriptor {
        let digest = Digest.sha256(data)
        if hasBlob(digest) {
            try holdForWriting()
            return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
        }
        let writer = try beginBlob()
        try writer.write(data)
        return try writer.commit(mediaType: mediaType, expected: digest)
    }

    /// Opens a blob for reading; the reader fails if the content does not match `descriptor`.
    public func openBlob(_ descriptor: Descriptor) throws -> any ByteSource {
        let path = blobPath(descriptor.digest)
        guard hasBlob(descriptor.digest) else { throw OCIError.blobNotFound(descriptor.digest) }
        return VerifiedBlobReader(source: try FileSource(path: path), expected: descriptor, name: path)
    }

    /// Reads a whole blob, checking size and digest; for manifests and configs.
    public func readBlob(_ descriptor: Descriptor) throws -> Data {
        let path = blobPath(descriptor.digest)
        guard descriptor.size <= ContentStore.maximumMetadataSize else {
            throw OCIError.tooLarge(object: path, size: descriptor.size, limit: ContentStore.maximumMetadataSize)
        }
        guard hasBlob(descriptor.digest) else { throw OCIError.blobNotFound(descriptor.digest) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw OCIError.io(SystemError("read", path: path, errno: EIO))
        }
        guard Int64(data.count) == descriptor.size else {
            throw OCIError.sizeMismatch(object: path, expected: descriptor.size, actual: Int64(data.count))
        }
        let actual = Digest.sha256(data)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(object: path, expected: descriptor.digest, actual: actual)
        }
        return data
    }

    /// Reads and decodes a JSON blob such as a manifest or a config.
    public func readJSON<T: Decodable>(_ type: T.Type, _ descriptor: Descriptor) throws -> T {
        try CanonicalJSON.decode(type, from: try readBlob(descriptor), source: blobPath(descriptor.digest))
    }

    /// Moves a finished temporary file to its blob path. Called by `BlobWriter.commit`.
    func install(temporaryPath: String, as digest: Digest) throws {
        let path = blobPath(digest)
        if hasBlob(digest) {
            // Content addressing: the existing blob has the same bytes.
            unlink(temporaryPath)
            return
        }
        try checkSyscall("rename blob to", path: path) { rename(temporaryPath, path) }
        try ContentStore.syncDirectory(root.store + "/blobs/sha256")
        DurableStep.completed("commit of blob \(digest)")
    }

    /// Declares that this process is about to write or reference blobs; garbage collection
    /// waits until the store is dropped. Called by every writing method; builds and pulls call
    /// it before they decide to reuse an existing blob.
    public func holdForWriting() throws {
        guard !holdsUsage else { return }
        guard let usageLock else { throw OCIError.readOnlyStore(root.store) }
        try usageLock.lock(exclusive: false)
        holdsUsage = true
    }

    /// Runs `body` while no other crib process holds the store; returns nil at once, without
    /// running it, when one does and `wait` is false.
    public func withExclusiveUsage<T>(wait: Bool, _ body: () throws -> T) throws -> T? {
        guard let usageLock else { throw OCIError.readOnlyStore(root.store) }
        if exclusiveDepth > 0 {
            exclusiveDepth += 1
            defer { exclusiveDepth -= 1 }
            return try body()
        }
        if !(try usageLock.tryLock(exclusive: true)) {
            guard wait else { return nil }
            log.log(.info, "waiting for other crib processes to finish writing to \(root.path)")
            try usageLock.lock(exclusive: true)
        }
        exclusiveDepth = 1
        defer {
            exclusiveDepth = 0
            // Return to what this store held before, so a later write keeps the shared lock.
            if holdsUsage { try? usageLock.lock(exclusive: false) } else { usageLock.unlock() }
        }
        return try body()
    }

    /// Removes what killed crib processes left in tmp/ (partial blobs, half-unpacked layers,
    /// build directories), when no other crib process uses the store.
    ///
    /// A process stages files in tmp/ only while it holds the store (`holdForWriting`) or the
    /// index lock, so with the usage lock taken exclusively and the index lock held, nothing
    /// there belongs to a running process. A store in use by others keeps its leftovers until
    /// a later open finds it idle, or until `garbageCollect`.
    private func removeInterruptedWork() throws {
        guard let usageLock, try usageLock.tryLock(exclusive: true) else { return }
        defer { usageLock.unlock() }
        let removed = try withIndexLock { () -> Int in
            var count = 0
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root.tmp)) ?? [] {
                do {
                    try FileTree.remove(root.tmp + "/" + name)
                    count += 1
                } catch {
                    // Left for a later open or `crib prune`, because this command does not need it gone.
                    log.log(.warning, "failed to remove \(root.tmp)/\(name), left by an interrupted crib process: \(error)")
                }
            }
            return count
        }
        if removed > 0 {
            log.log(.info, "removed \(removed) leftovers of interrupted crib processes from \(root.tmp)")
        }
    }

    func withIndexLock<T>(_ body: () throws -> T) throws -> T {
        guard let indexLock else { throw OCIError.readOnlyStore(root.store) }
        try indexLock.lock(exclusive: true)
        defer { indexLock.unlock() }
        return try body()
    }

    // MARK: - Layout files

    private func initializeLayout() throws {
        let layoutPath = root.store + "/oci-layout"
        // Under the index lock, like every other file staged in tmp/ by a process that does not
        // hold the store, so that `removeInterruptedWork` in another process leaves it alone.
        try withIndexLock {
            if access(layoutPath, F_OK) != 0 {
                try ContentStore.writeAtomically(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layoutPath, temporaryDirectory: root.tmp)
            }
            if access(indexPath, F_OK) != 0 {
                try writeIndex(Index(manifests: []))
            }
        }
    }

    var indexPath: String { root.store + "/index.json" }

    /// Reads index.json; a malformed file is an error naming it, never silently replaced.
    func readIndex() throws -> Index {
        // A store that was never created reads as empty, since only opening it for writing creates it.
        if isReadOnly && access(indexPath, F_OK) != 0 && errno == ENOENT { return Index(manifests: []) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: indexPath))
        } catch {
            throw OCIError.io(SystemError("read", path: indexPath, errno: ENOENT))
        }
        let index = try CanonicalJSON.decode(Index.self, from: data, source: indexPath)
        guard index.schemaVersion == 2 else {
            throw OCIError.malformedJSON(path: indexPath, underlying: "schemaVersion \(index.schemaVersion), expected 2")
        }
        return index
    }

    /// Replaces index.json atomically; callers hold the index lock.
    func writeIndex(_ index: Index) throws {
        try ContentStore.writeAtomically(try CanonicalJSON.encode(index), to: indexPath, temporaryDirectory: root.tmp)
    }

    // MARK: - File helpers

    /// Writes `data` to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
    /// The file gets mode 0644, as skopeo gives the files of a layout.
    public static func writeAtomically(_ data: Data, to path: String, temporaryDirectory: String) throws {
        let file = try FileSink(temporaryIn: temporaryDirectory, prefix: "write-", mode: 0o644)
        let temporaryPath = file.path
        do {
            try data.withUnsafeBytes { try file.write($0) }
            try file.sync()
            try checkSyscall("rename to", path: path) { rename(temporaryPath, path) }
        } catch {
            unlink(temporaryPath)
            throw error
        }
        try syncDirectory((path as NSString).deletingLastPathComponent)
        DurableStep.completed("replacement of \(path)")
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = try checkSyscall("open directory", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(descriptor) }
        try checkSyscall("fsync", path: path) { fsync(descriptor) }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        if errno == ENOENT {
            try makeDirectory((path as NSString).deletingLastPathComponent)
            try makeDirectory(path)
            return
        }
        throw SystemError("create directory", path: path)
    }
}
