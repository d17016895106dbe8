import CRunnerShim
import Foundation

/// Pipes of crib's own between a restored tree and crib run's stdio, copied both ways.
///
/// A restore reopens its inherited stdio through /proc/self/fd. Without root on the host, criu
/// may reopen only pipes the invoking user owns, so a pipe that another user made for crib run
/// fails with EACCES. The bridge's pipes belong to crib's own user.
public final class StdioBridge: @unchecked Sendable {
    private let input: (read: Int32, write: Int32)
    private let output: (read: Int32, write: Int32)
    private let errors: (read: Int32, write: Int32)
    private var relays: [OutputRelay] = []

    public init() throws {
        input = try Checkpointer.makePipe()
        output = try Checkpointer.makePipe()
        errors = try Checkpointer.makePipe()
    }

    /// Gives the container the bridge's ends in place of crib's own stdio.
    public func attach(to spec: inout ContainerSpec) {
        spec.standardInput = input.read
        spec.standardOutput = output.write
        spec.standardError = errors.write
    }

    /// Starts copying, once the container has its ends.
    public func start() {
        [input.read, output.write, errors.write].forEach { close($0) }
        relays = [
            OutputRelay(source: output.read, target: STDOUT_FILENO, pattern: nil),
            OutputRelay(source: errors.read, target: STDERR_FILENO, pattern: nil),
        ]
        relays.forEach { $0.start() }
        let target = input.write
        // Not joined: the thread blocks on crib's stdin and ends with crib.
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { write(target, $0.baseAddress! + offset, count - offset) }
                    if written <= 0 { close(target); return }
                    offset += written
                }
            }
            close(target)
        }
        thread.start()
    }

    /// Waits until the container's output has all been copied.
    public func finish() {
        relays.forEach { $0.waitUntilDone() }
    }
}
