import CCrypto
import Foundation

/// A streaming hash through OpenSSL's EVP interface for any `Digest.Algorithm`. Blob digests
/// go through `SHA256Hasher`, which wraps this one and counts bytes as well.
///
/// Copies share one EVP context, so create one hasher per stream.
public struct DigestHasher: @unchecked Sendable {
    private final class Context {
        let pointer: OpaquePointer

        init(_ algorithm: Digest.Algorithm) {
            // EVP_MD_CTX_new returns nil only when an allocation fails, and crib cannot go on then.
            guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
            let method: OpaquePointer?
            switch algorithm {
            case .sha256: method = EVP_sha256()
            case .sha384: method = EVP_sha384()
            case .sha512: method = EVP_sha512()
            }
            EVP_DigestInit_ex(context, method, nil)
            pointer = context
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    public let algorithm: Digest.Algorithm
    private let context: Context

    public init(_ algorithm: Digest.Algorithm) {
        self.algorithm = algorithm
        context = Context(algorithm)
    }

    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update(UnsafeRawBufferPointer($0)) }
        }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(context.pointer, base, buffer.count)
    }

    /// Returns the digest of everything hashed; the hasher must not be used afterwards.
    public func finalize() -> Digest {
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context.pointer, &bytes, &length)
        return Digest(algorithm: algorithm, encoded: hexEncoded(bytes[..<Int(length)]))
    }
}
