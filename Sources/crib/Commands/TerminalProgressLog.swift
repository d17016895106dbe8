import Foundation
import OCI

/// Draws blob progress on a terminal: one line per running transfer, redrawn in place,
/// above which finished lines scroll. Used only when stderr is a terminal.
final class TerminalProgressLog: LiveProgressSink, @unchecked Sendable {
    private let base: any LogSink
    private let lock = NSLock()
    private var lines: [(id: String, text: String)] = []
    private var drawn = 0

    init(base: any LogSink) {
        self.base = base
    }

    /// The global log, wrapped for live progress when stderr is a terminal and not quiet.
    static func wrap(_ global: GlobalOptions) -> any LogSink {
        guard !global.quiet, isatty(STDERR_FILENO) == 1 else { return global.log }
        return TerminalProgressLog(base: global.log)
    }

    func log(_ level: LogLevel, _ message: String) {
        lock.withLock {
            erase()
            base.log(level, message)
            draw()
        }
    }

    func progress(id: String, line: String?) {
        lock.withLock {
            erase()
            if let line {
                if let position = lines.firstIndex(where: { $0.id == id }) {
                    lines[position].text = line
                } else {
                    lines.append((id, line))
                }
            } else {
                lines.removeAll { $0.id == id }
            }
            draw()
        }
    }

    private func erase() {
        guard drawn > 0 else { return }
        // Up one line and clear it, for each line drawn last time.
        FileHandle.standardError.write(Data(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawn).utf8))
        drawn = 0
    }

    private func draw() {
        guard !lines.isEmpty else { return }
        FileHandle.standardError.write(Data(lines.map { $0.text + "\n" }.joined().utf8))
        drawn = lines.count
    }
}
