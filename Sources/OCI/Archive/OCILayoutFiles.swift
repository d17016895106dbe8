import Foundation

/// Read access to the files of an OCI image layout ("Image Layout" in the OCI image spec:
/// oci-layout, index.json, blobs/ALGORITHM/ENCODED), whether a directory or a tar of one.
public protocol OCILayoutFiles: AnyObject {
    /// The directory or archive, for messages.
    var location: String { get }
    func readFile(_ relativePath: String, limit: Int64) throws -> Data
    func openFile(_ relativePath: String) throws -> any ByteSource
    /// The file on disk, when the layout is a directory.
    func localPath(_ relativePath: String) -> String?
    func fileExists(_ relativePath: String) -> Bool
}

extension OCILayoutFiles {
    static func blobPath(_ digest: Digest) -> String { "blobs/\(digest.algorithm.rawValue)/\(digest.encoded)" }

    /// index.json, checked to be an image layout's index.
    func readIndex() throws -> Index {
        guard fileExists("index.json") else {
            throw OCIError.invalidContent(object: "image layout \(location)", reason: "no index.json in it")
        }
        let index = try CanonicalJSON.decode(
            Index.self, from: try readFile("index.json", limit: ContentStore.maximumMetadataSize),
            source: "\(location)/index.json")
        return index
    }

    /// A manifest, index or config blob, checked against its descriptor.
    func readBlob(_ descriptor: Descriptor) throws -> Data {
        let path = Self.blobPath(descriptor.digest)
        guard fileExists(path) else { throw OCIError.invalidContent(object: "image layout \(location)", reason: "missing blob \(descriptor.digest)") }
        let data = try readFile(path, limit: ContentStore.maximumMetadataSize)
        let actual = Digest.sha256(data)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(object: "\(location)/\(path)", expected: descriptor.digest, actual: actual)
        }
        return data
    }
}

/// An image layout in a directory (`oci:DIR`).
public final class OCILayoutDirectory: OCILayoutFiles {
    public let path: String
    public var location: String { path }

    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OCIError.invalidContent(object: "image layout \(path)", reason: "not a directory")
        }
    }

    public func readFile(_ relativePath: String, limit: Int64) throws -> Data {
        let full = path + "/" + relativePath
        let source = try FileSource(path: full)
        var data = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
            if Int64(data.count) > limit { throw OCIError.tooLarge(object: full, size: Int64(data.count), limit: limit) }
        }
    }

    public func openFile(_ relativePath: String) throws -> any ByteSource {
        try FileSource(path: path + "/" + relativePath)
    }

    public func localPath(_ relativePath: String) -> String? {
        fileExists(relativePath) ? path + "/" + relativePath : nil
    }

    public func fileExists(_ relativePath: String) -> Bool {
        access(path + "/" + relativePath, F_OK) == 0
    }
}

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
