import Foundation

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
            if Int64(data.count) > limit {
                throw OCIError.tooLarge(object: full, size: Int64(data.count), limit: limit)
            }
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
