import Foundation
import OCI

/// A sink that hands what it is given to another sink on a background thread, so that
/// hashing and writing a compressed layer overlap with reading files and compressing.
///
/// Writes are gathered into chunks of `chunkSize` bytes; at most `chunkCount` chunks wait
/// for the thread, and `write` blocks while they do, so memory stays bounded. The output
/// sink's first error is thrown from the next `write` or from `finish`.
final class BackgroundSink: ByteSink {
    private typealias Chunk = ByteChunk

    /// The queue shared with the background thread. The thread keeps a reference to this
    /// state and not to the sink, so that dropping the sink stops the thread.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var queued = [Chunk]()
        var free = [Chunk]()
        var closed = false
        var finished = false
        var cancelled = false
        var failure: (any Error)?
        /// The output sink, released by the thread before it sets `finished`.
        var output: ByteSink?
    }

    private let state = State()
    private var current: Chunk

    init(output: ByteSink, chunkSize: Int = 1 << 20, chunkCount: Int = 4) {
        state.free = (0..<chunkCount).map { _ in Chunk(size: chunkSize) }
        current = state.free.removeLast()
        state.output = output
        let state = state
        let thread = Thread {
            while true {
                state.condition.lock()
                while state.queued.isEmpty && !state.closed { state.condition.wait() }
                guard !state.queued.isEmpty else {
                    state.output = nil
                    state.finished = true
                    state.condition.broadcast()
                    state.condition.unlock()
                    return
                }
                let chunk = state.queued.removeFirst()
                let failed = state.failure != nil || state.cancelled
                let output = state.output
                state.condition.unlock()

                var error: (any Error)?
                if !failed, let output {
                    do {
                        try output.write(UnsafeRawBufferPointer(rebasing: chunk.bytes[..<chunk.count]))
                    } catch let caught {
                        error = caught
                    }
                }

                state.condition.lock()
                if let error, state.failure == nil { state.failure = error }
                chunk.count = 0
                state.free.append(chunk)
                state.condition.broadcast()
                state.condition.unlock()
            }
        }
        thread.name = "crib-background-sink"
        thread.start()
    }

    /// Drops what is still queued and waits for the thread to end, so that the output sink
    /// (a store's blob writer, which removes its temporary file when released) is released
    /// before this returns.
    deinit {
        state.condition.lock()
        state.cancelled = true
        state.closed = true
        state.condition.broadcast()
        while !state.finished { state.condition.wait() }
        state.condition.unlock()
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let take = min(buffer.count - offset, current.bytes.count - current.count)
            UnsafeMutableRawBufferPointer(rebasing: current.bytes[current.count..<current.count + take])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + take]))
            current.count += take
            offset += take
            if current.count == current.bytes.count { try handOff() }
        }
    }

    /// Writes what is left and waits until the output sink has everything.
    func finish() throws {
        if current.count > 0 { try handOff() }
        state.condition.lock()
        state.closed = true
        state.condition.broadcast()
        while !state.finished { state.condition.wait() }
        let failure = state.failure
        state.condition.unlock()
        if let failure { throw failure }
    }

    private func handOff() throws {
        state.condition.lock()
        defer { state.condition.unlock() }
        if let failure = state.failure { throw failure }
        state.queued.append(current)
        state.condition.broadcast()
        while state.free.isEmpty { state.condition.wait() }
        current = state.free.removeLast()
    }
}
