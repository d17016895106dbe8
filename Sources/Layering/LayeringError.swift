import OCI

/// Errors of the Layering module. Each case names the object involved; `description` is one
/// lowercase line: what failed, on which value, then the cause.
public enum LayeringError: Error, CustomStringConvertible, Sendable {
    /// libarchive reported an error; `message` is its `archive_error_string`.
    case archive(operation: String, object: String?, message: String)
    /// zlib, libdeflate or libzstd reported an error.
    case compression(operation: String, message: String)
    /// A tar entry whose path, link target or position would leave the target root.
    case unsafePath(entry: String, reason: String)
    /// A tar entry that cannot be applied, for example a hardlink to a missing file.
    case invalidEntry(entry: String, reason: String)
    /// The uncompressed layer does not hash to the diffID it was expected to have.
    case diffIDMismatch(object: String, expected: Digest, actual: Digest)
    /// A system call failed while reading or writing `entry` (a path inside a layer or tree).
    case io(SystemError, entry: String?)
    /// A source given to import or pack that is neither a directory nor a tar file.
    case invalidSource(path: String, reason: String)

    public var description: String {
        switch self {
        case .archive(let operation, let object?, let message):
            return "failed to \(operation) \(object): \(message)"
        case .archive(let operation, nil, let message):
            return "failed to \(operation): \(message)"
        case .compression(let operation, let message):
            return "failed to \(operation): \(message)"
        case .unsafePath(let entry, let reason):
            return "failed to apply layer entry \"\(entry)\": \(reason)"
        case .invalidEntry(let entry, let reason):
            return "failed to apply layer entry \"\(entry)\": \(reason)"
        case .diffIDMismatch(let object, let expected, let actual):
            return "failed to verify \(object): expected diffID \(expected), got \(actual)"
        case .io(let error, let entry?):
            return "\(error.description) (layer entry \"\(entry)\")"
        case .io(let error, nil):
            return error.description
        case .invalidSource(let path, let reason):
            return "invalid source \(path): \(reason)"
        }
    }
}
