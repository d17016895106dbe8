/// A fixed-size buffer and the number of bytes in use, passed between a caller and the
/// background thread of `BackgroundSink` or `ReadAheadSource`.
final class ByteChunk {
    let bytes: UnsafeMutableRawBufferPointer
    var count = 0

    init(size: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    }

    deinit { bytes.deallocate() }
}
