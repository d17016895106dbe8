import Foundation

/// Copies an image between any two transports: the manifest's blobs first (several at a
/// time where the destination allows it, skipping those it has), then the manifest, so that
/// a destination never names a blob it does not hold.
public struct ImageCopier {
    /// The platform an index resolves to when none is given, as podman's default on amd64 hosts.
    public static let defaultPlatform = Platform(architecture: "amd64", os: "linux")

    let log: any LogSink

    public init(log: any LogSink = SilentLog()) {
        self.log = log
    }

    /// Copies the image and returns the manifest that was copied.
    @discardableResult
    public func copy(
        from source: any ImageSource, to destination: any ImageDestination, platform: Platform = defaultPlatform
    ) throws -> ImageManifestData {
        let progress = TransferProgress(log: log)
        do {
            let manifest = try source.manifest(for: platform)
            var seen = Set<Digest>()
            let blobs = manifest.blobs.filter { seen.insert($0.digest).inserted }

            try Self.forEach(blobs, concurrently: destination.parallelBlobs) { blob in
                switch try destination.existingBlob(blob) {
                case .present:
                    progress.skipped(blob, reason: "already in \(destination.name)")
                case .mounted(let repository):
                    progress.skipped(blob, reason: "mounted from \(repository)")
                case .missing:
                    let start = Date()
                    try destination.putBlob(blob, from: source, progress: progress.tracker(for: blob, verb: "copying"))
                    progress.finished(blob, verb: "copied", seconds: Date().timeIntervalSince(start))
                }
            }
            try destination.putManifest(manifest)
            log.log(.info, "copied \(source.name) to \(destination.name) (manifest \(manifest.digest))")
            return manifest
        } catch {
            destination.abort()
            throw error
        }
    }

    /// Runs `body` for every item, at most `limit` at a time, and rethrows the first error.
    /// Items not started when an error occurs are not started at all.
    static func forEach<T>(_ items: [T], concurrently limit: Int, _ body: @escaping (T) throws -> Void) throws {
        if limit <= 1 || items.count <= 1 {
            for item in items { try body(item) }
            return
        }
        // Dedicated threads, not Dispatch's pool: each task blocks on network I/O, and URLSession
        // delivers its callbacks on that pool, which grows only slowly once its few threads
        // (one per core) are all blocked.
        let group = DispatchGroup()
        let failure = FirstError()
        let cursor = Cursor(count: items.count)
        for _ in 0..<min(limit, items.count) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while failure.error == nil {
                    guard let position = cursor.take() else { return }
                    do {
                        try body(items[position])
                    } catch {
                        failure.record(error)
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = failure.error { throw error }
    }
}

/// Copies everything `source` yields into `sink` in 1 MiB reads.
func pump(_ source: any ByteSource, into sink: any ByteSink, progress: ((Int64) -> Void)? = nil) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var total: Int64 = 0
    while true {
        let count = try source.read(into: buffer)
        if count == 0 { return }
        try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        total += Int64(count)
        progress?(total)
    }
}

/// The first error of several concurrent tasks.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    var error: (any Error)? { lock.withLock { stored } }

    func record(_ error: any Error) {
        lock.withLock { if stored == nil { stored = error } }
    }
}

/// Hands out the positions 0..<count once each, to whichever thread calls `take` first.
private final class Cursor: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var next = 0

    init(count: Int) {
        self.count = count
    }

    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }
}
