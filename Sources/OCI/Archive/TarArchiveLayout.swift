import Foundation

/// An archive read in place: a tar file, or a gzip-compressed one inflated to a temporary
/// file first (removed when this is dropped).
public final class TarArchiveLayout: OCILayoutFiles {
    public let path: String
    public let reader: TarArchiveReader
    private let inflatedPath: String?
    public var location: String { path }

    public init(path: String, temporaryDirectory: String) throws {
        self.path = path
        let head = try FileSource(path: path)
        var prefix = [UInt8](repeating: 0, count: 2)
        let count = try prefix.withUnsafeMutableBytes { try head.read(into: $0) }
        if count == 2 && GzipSource.isGzip(Data(prefix)) {
            let output = try FileSink(temporaryIn: temporaryDirectory, prefix: "archive-")
            do {
                try pump(try GzipSource(try FileSource(path: path), name: path), into: output)
                reader = try TarArchiveReader(path: output.path)
            } catch {
                unlink(output.path)
                throw error
            }
            inflatedPath = output.path
        } else {
            reader = try TarArchiveReader(path: path)
            inflatedPath = nil
        }
    }

    deinit {
        if let inflatedPath { unlink(inflatedPath) }
    }

    public func readFile(_ relativePath: String, limit: Int64) throws -> Data {
        try reader.read(relativePath, limit: limit)
    }

    public func openFile(_ relativePath: String) throws -> any ByteSource {
        try reader.open(relativePath)
    }

    public func localPath(_ relativePath: String) -> String? { nil }

    public func fileExists(_ relativePath: String) -> Bool {
        if let entry = reader.entry(relativePath), case .file = entry.kind { return true }
        return false
    }
}
