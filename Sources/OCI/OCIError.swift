/// Errors of the OCI module. Each case names the object involved; `description` is one
/// lowercase line: what failed, on which value, then the cause.
public enum OCIError: Error, CustomStringConvertible, Sendable {
    case invalidDigest(String, reason: String)
    case invalidReference(String, reason: String)
    case invalidPlatform(String)
    case digestMismatch(object: String, expected: Digest, actual: Digest)
    case sizeMismatch(object: String, expected: Int64, actual: Int64)
    case tooLarge(object: String, size: Int64, limit: Int64)
    case imageNotFound(String)
    case ambiguousImageID(String, matches: [String])
    case blobNotFound(Digest)
    case malformedJSON(path: String, underlying: String)
    case unsupportedMediaType(MediaType, object: String)
    indirect case damagedImage(name: String, underlying: OCIError)
    case io(SystemError)
    /// A registry answered `operation` on `object` with an unexpected HTTP status.
    case registryFailure(operation: String, object: String, status: Int, detail: String)
    /// A registry rejected the credentials, or asked for some and crib had none.
    case unauthorized(registry: String, detail: String)
    /// No HTTP exchange with a registry completed: no connection, a dropped one, a timeout.
    case connectionFailed(operation: String, object: String, underlying: String)
    /// An index lists no manifest for the requested platform.
    case platformNotFound(reference: String, platform: String, available: [String])
    /// A registry or archive held something crib cannot use, named with the reason.
    case invalidContent(object: String, reason: String)
    /// A write to a store that a read-only command opened for reading.
    case readOnlyStore(String)

    public var description: String {
        switch self {
        case .invalidDigest(let text, let reason):
            return "invalid digest \"\(text)\": \(reason)"
        case .invalidReference(let text, let reason):
            return "invalid reference \"\(text)\": \(reason)"
        case .invalidPlatform(let text):
            return "invalid platform \"\(text)\": expected os/arch[/variant], such as linux/amd64"
        case .digestMismatch(let object, let expected, let actual):
            return "digest mismatch in \(object): expected \(expected), got \(actual)"
        case .sizeMismatch(let object, let expected, let actual):
            return "size mismatch in \(object): expected \(expected) bytes, got \(actual)"
        case .tooLarge(let object, let size, let limit):
            return "\(object) is too large: \(size) bytes, the limit is \(limit)"
        case .imageNotFound(let reference):
            return "image not known: \(reference)"
        case .ambiguousImageID(let text, let matches):
            return "image id prefix \"\(text)\" matches \(matches.count) images (\(matches.joined(separator: ", "))); "
                + "name one of them, or give its manifest digest as crib images --digests prints it"
        case .blobNotFound(let digest):
            return "blob not found in the store: \(digest)"
        case .malformedJSON(let path, let underlying):
            return "malformed JSON in \(path): \(underlying)"
        case .unsupportedMediaType(let mediaType, let object):
            return "unsupported media type \"\(mediaType)\" for \(object)"
        case .damagedImage(let name, let underlying):
            return "failed to read image \(name): \(underlying)"
        case .io(let error):
            return error.description
        case .registryFailure(let operation, let object, let status, let detail):
            let suffix = detail.isEmpty ? "" : ": \(detail)"
            return "failed to \(operation) \(object): HTTP \(status)\(suffix)"
        case .unauthorized(let registry, let detail):
            return "failed to authenticate to \(registry): \(detail)"
        case .connectionFailed(let operation, let object, let underlying):
            return "failed to \(operation) \(object): \(underlying)"
        case .platformNotFound(let reference, let platform, let available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "failed to find platform \(platform) in \(reference): the index has \(list)"
        case .invalidContent(let object, let reason):
            return "invalid \(object): \(reason)"
        case .readOnlyStore(let path):
            return "failed to write to the store \(path): it was opened for reading only"
        }
    }
}

