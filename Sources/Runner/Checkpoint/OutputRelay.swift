import Foundation

/// Copies a container's output pipe to one of crib's descriptors, line by line, and notes the
/// first line that matches a pattern.
final class OutputRelay: @unchecked Sendable {
    private let source: Int32
    private let target: Int32
    private let pattern: NSRegularExpression?
    private let lock = NSLock()
    private var matched = false
    private let finished = DispatchSemaphore(value: 0)

    init(source: Int32, target: Int32, pattern: NSRegularExpression?) {
        self.source = source
        self.target = target
        self.pattern = pattern
    }

    var hasMatched: Bool {
        lock.lock()
        defer { lock.unlock() }
        return matched
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.start()
    }

    /// Waits until the pipe's writers have all closed it.
    func waitUntilDone() {
        finished.wait()
        close(source)
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var line: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < count {
                    let written = write(target, bytes.baseAddress! + offset, count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
            guard let pattern, !hasMatched else { continue }
            for byte in buffer[0..<count] {
                if byte != UInt8(ascii: "\n") {
                    line.append(byte)
                    continue
                }
                let text = String(decoding: line, as: UTF8.self)
                line.removeAll(keepingCapacity: true)
                if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                    lock.lock()
                    matched = true
                    lock.unlock()
                    break
                }
            }
        }
    }
}
