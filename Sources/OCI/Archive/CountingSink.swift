/// Counts what passes through to another sink.
final class CountingSink: ByteSink {
    private let target: any ByteSink
    private(set) var count: Int64 = 0

    init(_ target: any ByteSink) {
        self.target = target
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try target.write(buffer)
        count += Int64(buffer.count)
    }
}
