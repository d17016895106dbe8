import CZlib
import Foundation

/// Inflates a gzip stream read from another source, for archives that were compressed as a
/// whole (`crib load` of a `.tar.gz`) and gzip layers written into docker archives, which
/// hold layers uncompressed. Concatenated gzip members are read one after the other.
///
/// This file is the only place in OCI that handles zlib's pointers.
public final class GzipSource: ByteSource {
    private let source: any ByteSource
    private let name: String
    private var stream = z_stream()
    private let input: UnsafeMutableRawBufferPointer
    private var finished = false

    /// - Parameter name: how errors name the stream, such as the archive's path.
    public init(_ source: any ByteSource, name: String) throws {
        self.source = source
        self.name = name
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        // 15 + 16: a 32 KiB window and a gzip header and trailer rather than raw zlib.
        let status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            throw OCIError.invalidContent(object: "gzip stream \(name)", reason: "inflateInit2 returned \(status)")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Whether `prefix` starts with the gzip magic bytes.
    public static func isGzip(_ prefix: Data) -> Bool {
        prefix.count >= 2 && prefix[prefix.startIndex] == 0x1f && prefix[prefix.startIndex + 1] == 0x8b
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let out = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(min(buffer.count, Int(UInt32.max)))

        while stream.avail_out == uInt(min(buffer.count, Int(UInt32.max))) {
            if stream.avail_in == 0 {
                let count = try source.read(into: input)
                if count == 0 {
                    // Input ended; a gzip member still open means the file was cut short.
                    throw OCIError.invalidContent(object: "gzip stream \(name)", reason: "truncated")
                }
                stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(count)
            }
            let status = inflate(&stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                let produced = buffer.count - Int(stream.avail_out)
                if try !startNextMember() { finished = true }
                if produced > 0 || finished { return produced }
                continue
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                let message = stream.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                throw OCIError.invalidContent(object: "gzip stream \(name)", reason: message)
            }
        }
        return buffer.count - Int(stream.avail_out)
    }

    /// Resets for another gzip member after the current one when more input follows.
    private func startNextMember() throws -> Bool {
        if stream.avail_in == 0 {
            let count = try source.read(into: input)
            if count == 0 { return false }
            stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(count)
        }
        inflateReset(&stream)
        return true
    }
}
