import Foundation

/// A content digest as the OCI image spec defines it ("Digests", `algorithm:encoded`).
///
/// Blobs are stored and verified by sha256 only. sha384 and sha512 parse, so that foreign
/// manifests decode, and `DigestHasher` computes them for checksums such as ADD `--checksum`.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public enum Algorithm: String, Sendable, Codable, CaseIterable {
        case sha256
        case sha384
        case sha512

        var encodedLength: Int {
            switch self {
            case .sha256: return 64
            case .sha384: return 96
            case .sha512: return 128
            }
        }
    }

    public let algorithm: Algorithm
    /// The lowercase hex encoding of the hash.
    public let encoded: String

    /// Parses `sha256:<64 lowercase hex>`; anything else throws with the offending text.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw OCIError.invalidDigest(text, reason: "missing algorithm prefix")
        }
        guard let algorithm = Algorithm(rawValue: String(text[..<colon])) else {
            throw OCIError.invalidDigest(text, reason: "unsupported algorithm")
        }
        let encoded = String(text[text.index(after: colon)...])
        guard encoded.utf8.count == algorithm.encodedLength,
            encoded.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else {
            throw OCIError.invalidDigest(text, reason: "expected \(algorithm.encodedLength) lowercase hex digits")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    init(algorithm: Algorithm, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    /// The first 12 hex digits, as podman prints image ids.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The sha256 digest of `data`.
    public static func sha256(_ data: some DataProtocol) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }
}

/// A streaming SHA-256 that also counts the bytes it hashed, for blobs, whose descriptors
/// carry both.
///
/// Copies share one EVP context (see `DigestHasher`), so create one hasher per stream.
public struct SHA256Hasher: Sendable {
    private var hasher = DigestHasher(.sha256)
    /// The number of bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update(UnsafeRawBufferPointer($0)) }
        }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        hasher.update(buffer)
        count += Int64(buffer.count)
    }

    /// Returns the digest of everything hashed; the hasher must not be used afterwards.
    public func finalize() -> Digest {
        hasher.finalize()
    }
}

func hexEncoded(_ bytes: some Collection<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}
