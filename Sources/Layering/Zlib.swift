import CZlib
import Foundation

// The only file that handles zlib's stream structures.

private func zlibMessage(_ stream: z_stream, _ status: Int32) -> String {
    if let message = stream.msg { return String(cString: message) }
    return "zlib status \(status)"
}

/// Raw deflate and CRC-32 through zlib, for the parallel gzip writer.
enum Zlib {
    static func crc32(_ buffer: UnsafeRawBufferPointer, continuing crc: UInt = 0) -> UInt {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return crc }
        return CZlib.crc32(crc, base.assumingMemoryBound(to: UInt8.self), uInt(buffer.count))
    }

    /// Combines the CRC-32s of two blocks into the CRC-32 of their concatenation.
    static func combine(_ first: UInt, _ second: UInt, secondLength: Int) -> UInt {
        crc32_combine(first, second, Int(secondLength))
    }

    /// Compresses `input` as raw deflate primed with `dictionary`, ending with a sync flush
    /// (byte-aligned, no final bit) unless `isLast`, so that blocks concatenate into one stream.
    static func deflateBlock(
        _ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer, level: Int32, isLast: Bool
    ) throws -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(
            &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw LayeringError.compression(operation: "start deflate", message: zlibMessage(stream, status))
        }
        defer { deflateEnd(&stream) }

        if let base = dictionary.baseAddress, dictionary.count > 0 {
            status = deflateSetDictionary(&stream, base.assumingMemoryBound(to: UInt8.self), uInt(dictionary.count))
            guard status == Z_OK else {
                throw LayeringError.compression(operation: "set the deflate dictionary", message: zlibMessage(stream, status))
            }
        }

        // deflateBound covers a finished stream; a sync flush adds at most a few bytes more.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        let produced = try output.withUnsafeMutableBufferPointer { out -> Int in
            var empty: UInt8 = 0
            stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) } ?? UnsafeMutablePointer(&empty)
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            status = deflate(&stream, isLast ? Z_FINISH : Z_SYNC_FLUSH)
            let expected = isLast ? Z_STREAM_END : Z_OK
            guard status == expected, stream.avail_in == 0 else {
                throw LayeringError.compression(operation: "deflate a block", message: zlibMessage(stream, status))
            }
            return out.count - Int(stream.avail_out)
        }
        output.removeLast(output.count - produced)
        return output
    }
}

/// A streaming gzip decoder that accepts concatenated members, as RFC 1952 allows.
final class Inflater: StreamDecoder {
    private var stream = z_stream()

    init() throws {
        // 16 + 15: gzip wrapper only, 32 KiB window.
        let status = inflateInit2_(&stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw LayeringError.compression(operation: "start gzip decoding", message: zlibMessage(stream, status))
        }
    }

    deinit { inflateEnd(&stream) }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (consumed: Int, produced: Int, endOfFrame: Bool)
    {
        var empty: UInt8 = 0
        stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) } ?? UnsafeMutablePointer(&empty)
        stream.avail_in = uInt(input.count)
        stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = uInt(output.count)
        let status = inflate(&stream, Z_NO_FLUSH)
        let consumed = input.count - Int(stream.avail_in)
        let produced = output.count - Int(stream.avail_out)
        switch status {
        case Z_STREAM_END:
            inflateReset(&stream)
            return (consumed, produced, true)
        case Z_OK, Z_BUF_ERROR:
            return (consumed, produced, false)
        default:
            throw LayeringError.compression(operation: "decode gzip data", message: zlibMessage(stream, status))
        }
    }
}
