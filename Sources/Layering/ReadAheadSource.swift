import Foundation
import OCI

/// A source that reads its underlying source on a background thread into a few buffers, so
/// that decompressing and hashing a layer overlap with writing its files.
///
/// At most `bufferCount` chunks of `chunkSize` bytes are held. The background thread stops
/// at the end of the stream, at the first error (which `read` then throws), or when the
/// reader is deallocated.
final class ReadAheadSource: ByteSource {
    private typealias Chunk = ByteChunk

    /// The buffers and flags shared with the background thread. The thread keeps a reference
    /// to this state and not to the reader, so that dropping the reader cancels the thread.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var filled = [Chunk]()
        var free = [Chunk]()
        var ended = false
        var failure: (any Error)?
        var cancelled = false
        var stopped = false
        /// The underlying source, released by the thread before it sets `stopped`.
        var source: ByteSource?
    }

    private let state = State()
    private var current: Chunk?
    private var offset = 0

    init(source: ByteSource, chunkSize: Int = 1 << 20, bufferCount: Int = 4) {
        state.free = (0..<bufferCount).map { _ in Chunk(size: chunkSize) }
        state.source = source
        let state = state
        let thread = Thread {
            defer {
                state.condition.lock()
                state.source = nil
                state.stopped = true
                state.condition.broadcast()
                state.condition.unlock()
            }
            while true {
                state.condition.lock()
                while state.free.isEmpty && !state.cancelled { state.condition.wait() }
                if state.cancelled {
                    state.condition.unlock()
                    return
                }
                let chunk = state.free.removeLast()
                let source = state.source
                state.condition.unlock()

                var count = 0
                var error: (any Error)?
                do {
                    count = try source?.read(into: chunk.bytes) ?? 0
                } catch let caught {
                    error = caught
                }

                state.condition.lock()
                chunk.count = count
                if let error {
                    state.failure = error
                } else if count == 0 {
                    state.ended = true
                } else {
                    state.filled.append(chunk)
                }
                state.condition.broadcast()
                state.condition.unlock()
                if error != nil || count == 0 { return }
            }
        }
        thread.name = "crib-read-ahead"
        thread.start()
    }

    /// Stops the thread and waits for it, so that the source is released before this returns.
    deinit {
        state.condition.lock()
        state.cancelled = true
        state.condition.broadcast()
        while !state.stopped { state.condition.wait() }
        state.condition.unlock()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if current == nil || offset == current?.count {
            state.condition.lock()
            if let done = current {
                state.free.append(done)
                current = nil
                state.condition.broadcast()
            }
            while state.filled.isEmpty && !state.ended && state.failure == nil { state.condition.wait() }
            guard !state.filled.isEmpty else {
                let failure = state.failure
                state.condition.unlock()
                if let failure { throw failure }
                return 0
            }
            current = state.filled.removeFirst()
            offset = 0
            state.condition.unlock()
        }
        guard let chunk = current else { return 0 }
        let count = min(buffer.count, chunk.count - offset)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk.bytes[offset..<offset + count]))
        offset += count
        return count
    }
}
