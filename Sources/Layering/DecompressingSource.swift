import OCI

/// A decoder for one compression format, called with chunks of compressed input.
protocol StreamDecoder: AnyObject {
    /// Decodes from `input` into `output`; `endOfFrame` is true when a gzip member or zstd frame ended.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (consumed: Int, produced: Int, endOfFrame: Bool)
}

/// A source that reads a layer blob, recognises gzip or zstd by its magic bytes (anything
/// else is taken as plain tar), and returns the tar stream while hashing it into the diffID.
public final class DecompressingSource: ByteSource {
    private let source: ByteSource
    private var input: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var sourceEnded = false
    private var decoder: StreamDecoder?
    private var detected = false
    private var inFrame = false
    private var hasher = SHA256Hasher()
    /// The compression found in the first bytes; known after the first read.
    public private(set) var compression: LayerCompression = .none

    public init(source: ByteSource) {
        self.source = source
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    }

    deinit { input.deallocate() }

    /// The number of uncompressed bytes returned so far.
    public var uncompressedSize: Int64 { hasher.count }

    /// Returns the SHA-256 of the uncompressed stream, which is complete once `read` returned 0.
    public func diffID() -> Digest { hasher.finalize() }

    private func refill() throws {
        if start > 0 && start == end {
            start = 0
            end = 0
        }
        guard !sourceEnded, end < input.count else { return }
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: input[end...]))
        if count == 0 { sourceEnded = true }
        end += count
    }

    private func detect() throws {
        detected = true
        while end - start < 4 && !sourceEnded { try refill() }
        let magic = Array(input[start..<min(end, start + 4)])
        if magic.starts(with: [0x1f, 0x8b]) {
            compression = .gzip
            decoder = try Inflater()
        } else if magic == [0x28, 0xb5, 0x2f, 0xfd] {
            compression = .zstd
            decoder = try ZstdDecoder()
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if !detected { try detect() }
        guard let decoder else {
            if start == end { try refill() }
            let count = min(buffer.count, end - start)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[start..<start + count]))
            start += count
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            return count
        }

        while true {
            if start == end {
                try refill()
                if start == end {
                    if inFrame {
                        throw LayeringError.compression(operation: "decode \(compression.rawValue) data", message: "unexpected end of stream")
                    }
                    return 0
                }
            }
            let (consumed, produced, endOfFrame) = try decoder.decode(
                UnsafeRawBufferPointer(rebasing: input[start..<end]), into: buffer)
            start += consumed
            inFrame = !endOfFrame
            if produced > 0 {
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<produced]))
                return produced
            }
            if consumed == 0 && !endOfFrame && start < end && end == input.count {
                throw LayeringError.compression(operation: "decode \(compression.rawValue) data", message: "decoder made no progress")
            }
        }
    }
}
