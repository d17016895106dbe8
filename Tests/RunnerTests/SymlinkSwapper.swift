import Foundation

/// A thread that exchanges two paths with renameat2(RENAME_EXCHANGE) in a loop, so that a
/// directory and a symlink keep trading places while another process resolves them.
final class SymlinkSwapper: @unchecked Sendable {
    private let first: String
    private let second: String
    private let lock = NSLock()
    private var running = false
    private var count = 0
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(_ first: String, _ second: String) {
        self.first = first
        self.second = second
    }

    /// Exchanges made so far.
    var swaps: Int { lock.withLock { count } }

    /// glibc's renameat2, which Swift's Glibc module does not import without _GNU_SOURCE.
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    func start() throws {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else {
            throw FixtureError("missing renameat2 in the C library (glibc 2.28 or later has it)")
        }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        lock.withLock { running = true }
        let thread = Thread { [self] in
            // RENAME_EXCHANGE from linux/fs.h.
            let exchange: UInt32 = 1 << 1
            while lock.withLock({ running }) {
                if renameat2(AT_FDCWD, first, AT_FDCWD, second, exchange) == 0 {
                    lock.withLock { count += 1 }
                }
            }
            finished.signal()
        }
        self.thread = thread
        thread.start()
    }

    /// Stops the loop and waits for the thread; safe to call more than once.
    func stop() {
        let wasRunning = lock.withLock {
            let was = running
            running = false
            return was
        }
        if wasRunning { finished.wait() }
    }
}
