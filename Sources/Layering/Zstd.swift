import CZstd
import Foundation
import OCI

// The only file that handles libzstd's contexts.

private func zstdCheck(_ result: Int, _ operation: String) throws {
    if ZSTD_isError(result) != 0 {
        throw LayeringError.compression(operation: operation, message: String(cString: ZSTD_getErrorName(result)))
    }
}

/// A zstd compressor that uses libzstd's worker threads.
final class ZstdSink: CompressingSink {
    private let context: OpaquePointer
    private let output: ByteSink
    private var buffer: [UInt8]

    init(output: ByteSink, level: Int, threads: Int) throws {
        guard let context = ZSTD_createCCtx() else {
            throw LayeringError.compression(operation: "create a zstd context", message: "out of memory")
        }
        self.context = context
        self.output = output
        buffer = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)), "set the zstd level")
        // At least one worker even on one core, because libzstd's output is the same for every
        // worker count from 1 up but differs between 0 (single-threaded) and 1.
        try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(1, threads))), "set zstd workers")
        // Each worker keeps about two jobs of input and output in memory. With libzstd's default
        // job size at level 3 (8 MiB) a two-core pack peaked near 90 MB; 2 MiB keeps it near 50 MB.
        try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, 2 << 20), "set the zstd job size")
    }

    deinit { ZSTD_freeCCtx(context) }

    func write(_ data: UnsafeRawBufferPointer) throws {
        guard data.count > 0 else { return }
        try run(data, ZSTD_e_continue)
    }

    func finish() throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end)
    }

    private func run(_ data: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective) throws {
        var input = ZSTD_inBuffer(src: data.baseAddress, size: data.count, pos: 0)
        while true {
            var remaining = 0
            let produced = try buffer.withUnsafeMutableBytes { out -> Int in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                remaining = ZSTD_compressStream2(context, &outBuffer, &input, directive)
                try zstdCheck(remaining, "compress with zstd")
                return outBuffer.pos
            }
            if produced > 0 {
                try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }
            }
            let done = directive == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }
}

/// A streaming zstd decoder; concatenated frames decode as one stream.
final class ZstdDecoder: StreamDecoder {
    private let context: OpaquePointer

    init() throws {
        guard let context = ZSTD_createDCtx() else {
            throw LayeringError.compression(operation: "create a zstd decoder", message: "out of memory")
        }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (consumed: Int, produced: Int, endOfFrame: Bool)
    {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        try zstdCheck(result, "decode zstd data")
        return (inBuffer.pos, outBuffer.pos, result == 0)
    }
}
