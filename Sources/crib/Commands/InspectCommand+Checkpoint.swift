import Foundation
import OCI
import Runner

extension InspectCommand {
    /// Prints what a restore of the checkpoint image `name` involves, as checkpointctl does.
    func printCheckpoint(_ name: String, store: ContentStore) throws {
        let summary = try CheckpointSummary.read(try store.image(name), name: name, store: store, log: global.log)
        let record = summary.record
        func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        var lines = [
            "image:           \(name)",
            "method:          \(record.method.rawValue)" + (record.phase.map { " (phase \($0))" } ?? ""),
            "CRIU images:     \(record.imagesDirectory)",
            "CRIU version:    \(record.criuVersion)",
            "processes:       \(summary.processes.count) (PIDs \(summary.processes.map(String.init).joined(separator: " ")))",
            "memory:          \(megabytes(summary.memoryBytes))",
            "images size:     \(megabytes(summary.imagesBytes))",
            "needs kernel:    \(record.host.kernelRelease) or later",
            "needs CPU flags: \(record.host.cpuFlags.count) of \(record.host.cpuModel)",
        ]
        if record.method == .trigger, let root = record.rootPID { lines.append("root PID:        \(root)") }
        lines.append("this host:       " + (summary.refusal.map { "cannot restore: \($0)" } ?? "can restore"))
        print(lines.joined(separator: "\n"))
    }
}
