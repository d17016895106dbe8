import Foundation

/// Collects bytes in memory; for configs, which are small.
final class DataSink: ByteSink {
    private(set) var data = Data()

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        data.append(contentsOf: buffer)
    }
}
