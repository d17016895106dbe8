import Foundation

/// Read access to the files of an OCI image layout ("Image Layout" in the OCI image spec:
/// oci-layout, index.json, blobs/ALGORITHM/ENCODED), whether a directory or a tar of one.
public protocol OCILayoutFiles: AnyObject {
    /// The directory or archive, for messages.
    var location: String { get }
    func readFile(_ relativePath: String, limit: Int64) throws -> Data
    func openFile(_ relativePath: String) throws -> any ByteSource
    /// Returns the file on disk, when the layout is a directory.
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

    /// Reads a manifest, index or config blob and checks it against its descriptor.
    func readBlob(_ descriptor: Descriptor) throws -> Data {
        let path = Self.blobPath(descriptor.digest)
        guard fileExists(path) else {
            throw OCIError.invalidContent(
                object: "image layout \(location)", reason: "missing blob \(descriptor.digest)")
        }
        let data = try readFile(path, limit: ContentStore.maximumMetadataSize)
        let actual = Digest.sha256(data)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(object: "\(location)/\(path)", expected: descriptor.digest, actual: actual)
        }
        return data
    }
}
