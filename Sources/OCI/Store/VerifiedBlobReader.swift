import Foundation

/// Reads a blob and checks it against its descriptor while reading: it fails as soon as the
/// content runs past the expected size, and at the end when size or digest differ.
///
/// A consumer therefore never acts on the last chunk of corrupt content without an error
/// following it; callers that write somewhere must discard their output on that error.
public final class VerifiedBlobReader: ByteSource {
    private let source: any ByteSource
    private let expected: Descriptor
    private let name: String
    private var hasher = SHA256Hasher()
    private var verified = false

    /// - Parameter name: how errors name the object, such as the blob's path.
    public init(source: any ByteSource, expected: Descriptor, name: String) {
        self.source = source
        self.expected = expected
        self.name = name
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if verified { return 0 }
        // Ask for one byte more than may remain, so that overlong content shows up here.
        let remaining = expected.size - hasher.count
        let limit = Int(min(Int64(buffer.count), max(remaining, 0) + 1))
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<limit]))
        if count == 0 {
            try verify()
            return 0
        }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        if hasher.count > expected.size {
            throw OCIError.sizeMismatch(object: name, expected: expected.size, actual: hasher.count)
        }
        return count
    }

    private func verify() throws {
        guard hasher.count == expected.size else {
            throw OCIError.sizeMismatch(object: name, expected: expected.size, actual: hasher.count)
        }
        let actual = hasher.finalize()
        guard actual == expected.digest else {
            throw OCIError.digestMismatch(object: name, expected: expected.digest, actual: actual)
        }
        verified = true
    }
}
