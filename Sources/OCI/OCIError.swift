/// Errors of the OCI module. Each case names the object involved; `description` is one
/// lowercase line: what failed, on which value, then the cause.
public enum OCIError: Error, CustomStringConvertible, Sendable {
    case invalidDigest(String, reason: String)
    case digestMismatch(object: String, expected: Digest, actual: Digest)
    case sizeMismatch(object: String, expected: Int64, actual: Int64)
    case invalidReference(String, reason: String)
    case imageNotFound(String)
    case blobNotFound(Digest)
    case malformedJSON(path: String, underlying: String)
    case unsupportedMediaType(String, object: String)
    case io(SystemError)

    public var description: String {
        switch self {
        case .invalidDigest(let text, let reason):
            return "invalid digest \"\(text)\": \(reason)"
        case .digestMismatch(let object, let expected, let actual):
            return "digest mismatch for \(object): expected \(expected), got \(actual)"
        case .sizeMismatch(let object, let expected, let actual):
            return "size mismatch for \(object): expected \(expected) bytes, got \(actual)"
        case .invalidReference(let text, let reason):
            return "invalid reference \"\(text)\": \(reason)"
        case .imageNotFound(let reference):
            return "image not found: \(reference)"
        case .blobNotFound(let digest):
            return "blob not found: \(digest)"
        case .malformedJSON(let path, let underlying):
            return "malformed JSON in \(path): \(underlying)"
        case .unsupportedMediaType(let mediaType, let object):
            return "unsupported media type \"\(mediaType)\" for \(object)"
        case .io(let error):
            return error.description
        }
    }
}
