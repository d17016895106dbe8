import Foundation

/// Reports blob transfers through a `LogSink`: one line per blob when it finishes, and, when
/// the sink draws live progress (`LiveProgressSink`), the bytes and rate while it runs.
final class TransferProgress: @unchecked Sendable {
    private let log: any LogSink
    private let lock = NSLock()
    private var lastDraw: [Digest: TimeInterval] = [:]

    init(log: any LogSink) {
        self.log = log
    }

    private var live: (any LiveProgressSink)? { log as? any LiveProgressSink }

    /// Returns a closure that takes the byte count so far, rate-limited to a few draws a second.
    func tracker(for descriptor: Descriptor, verb: String) -> ((Int64) -> Void)? {
        guard let live else { return nil }
        let start = Date().timeIntervalSinceReferenceDate
        return { [self] bytes in
            let now = Date().timeIntervalSinceReferenceDate
            let shouldDraw = lock.withLock {
                if let last = lastDraw[descriptor.digest], now - last < 0.2 { return false }
                lastDraw[descriptor.digest] = now
                return true
            }
            guard shouldDraw else { return }
            let rate = Double(bytes) / max(now - start, 0.001)
            live.progress(
                id: descriptor.digest.description,
                line:
                    "\(verb) blob \(descriptor.digest.shortID): \(Self.bytes(bytes)) of \(Self.bytes(descriptor.size)) (\(Self.bytes(Int64(rate)))/s)"
            )
        }
    }

    func finished(_ descriptor: Descriptor, verb: String, seconds: TimeInterval) {
        let rate = Double(descriptor.size) / max(seconds, 0.001)
        let line =
            "\(verb) blob \(descriptor.digest.shortID): \(Self.bytes(descriptor.size)) in \(String(format: "%.2f", seconds)) s (\(Self.bytes(Int64(rate)))/s)"
        report(descriptor, line)
    }

    func skipped(_ descriptor: Descriptor, reason: String) {
        report(descriptor, "skipped blob \(descriptor.digest.shortID): \(reason)")
    }

    private func report(_ descriptor: Descriptor, _ line: String) {
        if let live {
            live.progress(id: descriptor.digest.description, line: nil)
        }
        log.log(.info, line)
    }

    static func bytes(_ count: Int64) -> String {
        let value = Double(count)
        if value >= Double(1 << 30) { return String(format: "%.2f GiB", value / Double(1 << 30)) }
        if value >= Double(1 << 20) { return String(format: "%.1f MiB", value / Double(1 << 20)) }
        if value >= Double(1 << 10) { return String(format: "%.1f KiB", value / Double(1 << 10)) }
        return "\(count) B"
    }
}
