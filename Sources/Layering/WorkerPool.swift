import Foundation

/// A fixed set of threads that run submitted closures in submission order.
///
/// The parallel gzip writer uses its own threads rather than Dispatch's global queue, so the
/// number of compressing threads is the number asked for even when other processes keep the
/// cores busy.
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue = [() -> Void]()
    private var closed = false
    private var running: Int

    init(threads: Int, name: String) {
        running = max(1, threads)
        for index in 0..<running {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Stops the threads once the queue is empty and waits for them.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            guard !queue.isEmpty else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            // removeFirst, not an index into the array: a job left in the array would keep its
            // block's buffers alive for as long as the producer stays ahead of the workers.
            let job = queue.removeFirst()
            condition.unlock()
            job()
        }
    }
}
