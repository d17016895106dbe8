import Foundation

/// A fault-injection hook for the interrupted-work tests: with `CRIB_TEST_KILL_AT=N` in the
/// environment, crib raises SIGKILL on itself right after its N-th durable step.
///
/// A durable step is one change that outlives the process: a blob renamed into the store,
/// index.json or another file replaced by rename, an unpacked layer renamed into the layer
/// cache, or an upload finished. The first write of a temporary blob counts too, so that a
/// kill also lands while a blob is half written. The tests raise N from 1 until the command
/// finishes, and check the store after every kill. Without the variable, `completed` only
/// compares one cached optional.
public enum DurableStep {
    /// Counts a finished durable step and kills the process when it is the one the
    /// environment names. `description` goes to stderr first, so that a test can report where
    /// the kill landed.
    public static func completed(_ description: @autoclosure () -> String) {
        guard let target = killTarget else { return }
        let step = counter.increment()
        guard step == target else { return }
        FileHandle.standardError.write(Data("crib: CRIB_TEST_KILL_AT=\(target): killed after \(description())\n".utf8))
        kill(getpid(), SIGKILL)
    }

    /// The step number from `CRIB_TEST_KILL_AT`, or nil when it is unset or not a positive number.
    private static let killTarget: Int? = {
        guard let text = ProcessInfo.processInfo.environment["CRIB_TEST_KILL_AT"], let value = Int(text), value > 0 else {
            return nil
        }
        return value
    }()

    private static let counter = StepCounter()

    /// The number of steps so far, shared by every thread of the process.
    private final class StepCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0

        func increment() -> Int {
            lock.withLock {
                count += 1
                return count
            }
        }
    }
}
