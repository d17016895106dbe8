import Foundation
import OCI

/// A checkpoint image's CRIU images as `crib inspect --checkpoint` shows them.
public struct CheckpointSummary: Sendable {
    public var record: CheckpointRecord
    /// PIDs in the container of the dumped processes, one `pagemap-PID.img` each.
    public var processes: [Int32]
    /// Bytes of dumped memory: the `pages-*.img` files.
    public var memoryBytes: Int64
    /// Bytes of every file in the CRIU image directory.
    public var imagesBytes: Int64
    /// The reason this host cannot restore the image, or nil when it can.
    public var refusal: String?

    /// Reads the CRIU image directory of `image` from its unpacked layers.
    ///
    /// - Throws: `RunnerError.invalidCheckpoint` when the image is no checkpoint or its
    ///   layers hold no CRIU images at the recorded path.
    public static func read(_ image: StoredImage, name: String, store: ContentStore, log: any LogSink = SilentLog()) throws
        -> CheckpointSummary
    {
        guard let record = try CheckpointRecord(annotations: image.manifest.annotations, image: name) else {
            throw RunnerError.invalidCheckpoint(image: name, reason: "the image has no io.crib.checkpoint annotations")
        }
        let layers = try LayerDirectories.lowerDirectories(for: image, store: store, root: store.root, log: log)
        // NOTE: reads the topmost layer holding the directory; CRIU images spread over
        // several layers are summed from that layer alone.
        guard let directory = layers.map({ $0 + record.imagesDirectory }).first(where: { FileManager.default.fileExists(atPath: $0 + "/inventory.img") })
        else {
            throw RunnerError.invalidCheckpoint(image: name, reason: "no inventory.img under \(record.imagesDirectory) in its layers")
        }

        var summary = CheckpointSummary(record: record, processes: [], memoryBytes: 0, imagesBytes: 0, refusal: nil)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            var status = stat()
            guard lstat(directory + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            summary.imagesBytes += Int64(status.st_size)
            if name.hasPrefix("pages-") { summary.memoryBytes += Int64(status.st_size) }
            if name.hasPrefix("pagemap-"), name.hasSuffix(".img"), let pid = Int32(name.dropFirst(8).dropLast(4)) {
                summary.processes.append(pid)
            }
        }
        summary.processes.sort()
        summary.refusal = try HostProfile.current().refusal(toRestore: record.host)
        return summary
    }
}
