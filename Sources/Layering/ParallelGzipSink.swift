import Foundation
import OCI

/// Gzip compression on all cores, with output bytes that depend only on the input, the
/// level and the engine, never on thread timing or the number of cores.
///
/// The input is cut into blocks of `blockSize` bytes at fixed offsets. Each full block is
/// compressed on a worker thread as soon as it is filled, and the results are written in
/// input order. At most `2 × threads + 2` blocks are in flight, so memory stays bounded.
final class ParallelGzipSink: CompressingSink {
    /// The library and stream layout used for each block.
    enum Engine: String, Sendable {
        /// One gzip member in the style of pigz. Every block is raw deflate primed with the
        /// 32 KiB of input before it and ends with a sync flush, except the last, which sets the
        /// final bit. The CRC-32s of the blocks are combined for the trailer.
        case zlib
        /// One gzip member per block through libdeflate. libdeflate cannot take a dictionary
        /// or flush, so blocks cannot share one deflate stream; RFC 1952 readers (zlib,
        /// Go's compress/gzip, libarchive) read concatenated members as one stream.
        case libdeflate
    }

    static let blockSize = 1 << 20
    private static let dictionarySize = 32 << 10

    /// One block: its input, and once `done` is signalled, its output or error.
    private final class Job: @unchecked Sendable {
        let input: UnsafeMutableRawBufferPointer
        var length = 0
        var dictionary = [UInt8]()
        var output = [UInt8]()
        var checksum: UInt = 0
        var error: (any Error)?
        let done = DispatchSemaphore(value: 0)

        init() {
            input = UnsafeMutableRawBufferPointer.allocate(byteCount: ParallelGzipSink.blockSize, alignment: 16)
        }

        deinit { input.deallocate() }
    }

    private let output: ByteSink
    private let level: Int32
    private let engine: Engine
    private let maximumInFlight: Int
    private let workers: WorkerPool
    private var filling = Job()
    private var inFlight = [Job]()
    /// The last 32 KiB of input before the block being filled.
    private var dictionary = [UInt8]()
    private var checksum: UInt = 0
    private var inputLength: UInt64 = 0
    private var submittedLength: UInt64 = 0
    private var wroteHeader = false

    init(output: ByteSink, level: Int, engine: Engine, threads: Int) {
        self.output = output
        self.level = Int32(level)
        self.engine = engine
        maximumInFlight = 2 * max(1, threads) + 2
        workers = WorkerPool(threads: threads, name: "crib-gzip")
    }

    deinit { workers.close() }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let take = min(buffer.count - offset, Self.blockSize - filling.length)
            UnsafeMutableRawBufferPointer(rebasing: filling.input[filling.length..<filling.length + take])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + take]))
            filling.length += take
            offset += take
            if filling.length == Self.blockSize { try submit(isLast: false) }
        }
    }

    func finish() throws {
        // The zlib engine always ends with a final block, even an empty one, because only it
        // can set the final bit. libdeflate needs one member for an empty stream and none after a full block.
        if filling.length > 0 || engine == .zlib || submittedLength == 0 {
            try submit(isLast: true)
        }
        while !inFlight.isEmpty { try writeOldest() }
        if engine == .zlib {
            try writeHeaderIfNeeded()
            var trailer = [UInt8]()
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: checksum >> UInt(shift))) }
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: inputLength >> UInt64(shift))) }
            try trailer.withUnsafeBytes { try output.write($0) }
        }
    }

    private func submit(isLast: Bool) throws {
        let job = filling
        filling = Job()
        submittedLength += UInt64(job.length)
        if engine == .zlib {
            job.dictionary = dictionary
            let block = UnsafeRawBufferPointer(rebasing: job.input[..<job.length])
            dictionary = Array((dictionary + block.suffix(Self.dictionarySize)).suffix(Self.dictionarySize))
        }

        let level = level
        let engine = engine
        workers.submit {
            let input = UnsafeRawBufferPointer(rebasing: job.input[..<job.length])
            do {
                switch engine {
                case .libdeflate:
                    job.output = try Libdeflate.gzipMember(input, level: level)
                case .zlib:
                    job.output = try job.dictionary.withUnsafeBytes {
                        try Zlib.deflateBlock(input, dictionary: $0, level: level, isLast: isLast)
                    }
                    job.checksum = Zlib.crc32(input)
                }
            } catch {
                job.error = error
            }
            job.done.signal()
        }
        inFlight.append(job)

        // Write whatever finished, in order, and wait only when too many blocks are held.
        while let oldest = inFlight.first {
            if inFlight.count > maximumInFlight {
                try writeOldest()
            } else if oldest.done.wait(timeout: .now()) == .success {
                oldest.done.signal()
                try writeOldest()
            } else {
                break
            }
        }
    }

    private func writeOldest() throws {
        let job = inFlight.removeFirst()
        job.done.wait()
        if let error = job.error { throw error }
        try writeHeaderIfNeeded()
        if engine == .zlib {
            checksum = Zlib.combine(checksum, job.checksum, secondLength: job.length)
        }
        inputLength += UInt64(job.length)
        try job.output.withUnsafeBytes { try output.write($0) }
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
