import Foundation
import OCI

/// Gzip compression on all cores, with output bytes that depend only on the input, the
/// level and the engine, never on thread timing or the number of cores.
///
/// The input is cut into blocks of `blockSize` bytes at fixed offsets, a batch of blocks is
/// compressed concurrently while the caller fills the next batch, and the results are
/// written in input order. At most two batches are held, so memory stays bounded.
final class ParallelGzipSink: CompressingSink {
    /// How each block is compressed.
    enum Engine: String, Sendable {
        /// One gzip member in the style of pigz: every block is raw deflate primed with the
        /// 32 KiB of input before it and ends with a sync flush, the last one with the final
        /// bit, and the CRC-32s are combined for the trailer.
        case zlib
        /// One gzip member per block through libdeflate. libdeflate cannot take a dictionary
        /// or flush, so blocks cannot share one deflate stream; RFC 1952 readers (zlib,
        /// Go's compress/gzip, libarchive) read concatenated members as one stream.
        case libdeflate
    }

    static let blockSize = 1 << 20
    private static let dictionarySize = 32 << 10

    private final class Batch {
        let group = DispatchGroup()
        let lock = NSLock()
        var outputs: [[UInt8]]
        var checksums: [UInt]
        var lengths: [Int]
        var error: (any Error)?

        init(count: Int) {
            outputs = Array(repeating: [], count: count)
            checksums = Array(repeating: 0, count: count)
            lengths = Array(repeating: 0, count: count)
        }
    }

    private let output: ByteSink
    private let level: Int32
    private let engine: Engine
    private let batchSize: Int
    private var block: [UInt8]
    private var filled: [[UInt8]] = []
    /// The last 32 KiB of input before the batch being filled.
    private var dictionary: [UInt8] = []
    private var running: Batch?
    private var checksum: UInt = 0
    private var inputLength: UInt64 = 0
    private var wroteHeader = false

    init(output: ByteSink, level: Int, engine: Engine, threads: Int) {
        self.output = output
        self.level = Int32(level)
        self.engine = engine
        batchSize = max(2, min(threads, 16))
        block = []
        block.reserveCapacity(Self.blockSize)
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var rest = buffer[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.blockSize - block.count)
            block.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            if block.count == Self.blockSize {
                filled.append(block)
                block = []
                block.reserveCapacity(Self.blockSize)
                if filled.count == batchSize { try launch(endsStream: false) }
            }
        }
    }

    func finish() throws {
        // The zlib engine always ends with a final block, even an empty one, to set the final bit.
        if !block.isEmpty || engine == .zlib || (filled.isEmpty && inputLength == 0 && running == nil) {
            filled.append(block)
            block = []
        }
        if !filled.isEmpty { try launch(endsStream: true) }
        try drain()
        if engine == .zlib {
            try writeHeaderIfNeeded()
            var trailer = [UInt8]()
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: checksum >> UInt(shift))) }
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: inputLength >> UInt64(shift))) }
            try trailer.withUnsafeBytes { try output.write($0) }
        }
    }

    private func launch(endsStream: Bool) throws {
        try drain()
        let blocks = filled
        filled = []
        let before = dictionary
        var tail = dictionary + (blocks.last ?? [])
        if blocks.count > 1, tail.count < Self.dictionarySize { tail = blocks[blocks.count - 2] + tail }
        dictionary = Array(tail.suffix(Self.dictionarySize))

        let batch = Batch(count: blocks.count)
        let level = level
        let engine = engine
        DispatchQueue.global().async(group: batch.group) {
            DispatchQueue.concurrentPerform(iterations: blocks.count) { index in
                do {
                    let isLast = endsStream && index == blocks.count - 1
                    let (compressed, crc) = try blocks[index].withUnsafeBytes { input -> ([UInt8], UInt) in
                        switch engine {
                        case .libdeflate:
                            return (try Libdeflate.gzipMember(input, level: level), 0)
                        case .zlib:
                            let previous = index == 0 ? before : Array(blocks[index - 1].suffix(Self.dictionarySize))
                            let deflated = try previous.withUnsafeBytes {
                                try Zlib.deflateBlock(input, dictionary: $0, level: level, isLast: isLast)
                            }
                            return (deflated, Zlib.crc32(input))
                        }
                    }
                    batch.lock.lock()
                    batch.outputs[index] = compressed
                    batch.checksums[index] = crc
                    batch.lengths[index] = blocks[index].count
                    batch.lock.unlock()
                } catch {
                    batch.lock.lock()
                    if batch.error == nil { batch.error = error }
                    batch.lock.unlock()
                }
            }
        }
        running = batch
    }

    /// Waits for the running batch and writes its output in input order.
    private func drain() throws {
        guard let batch = running else { return }
        running = nil
        batch.group.wait()
        if let error = batch.error { throw error }
        try writeHeaderIfNeeded()
        for index in batch.outputs.indices {
            if engine == .zlib {
                checksum = Zlib.combine(checksum, batch.checksums[index], secondLength: batch.lengths[index])
            }
            inputLength += UInt64(batch.lengths[index])
            try batch.outputs[index].withUnsafeBytes { try output.write($0) }
        }
    }

    private func writeHeaderIfNeeded() throws {
        guard engine == .zlib, !wroteHeader else { return }
        wroteHeader = true
        // Magic, deflate, no flags, no modification time (so that output depends only on
        // input), no extra flags, operating system Unix.
        let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        try header.withUnsafeBytes { try output.write($0) }
    }
}
