import Foundation
import OCI

/// Errors of the Build module. Each case names the Dockerfile line, file or stage involved;
/// `description` is one lowercase line: where, what failed, then the cause.
public enum BuildError: Error, CustomStringConvertible, Sendable {
    /// The Dockerfile does not follow the reference's syntax at `location`.
    case syntax(SourceLocation, String)
    /// An instruction is well formed but cannot be planned, such as a `COPY --from` naming a
    /// later stage or a variable substitution that fails.
    case invalidInstruction(SourceLocation, String)
    /// A `.dockerignore` line is not a valid pattern.
    case invalidIgnorePattern(file: String, line: Int, pattern: String, reason: String)
    /// A RUN command exited with a status other than 0.
    case runFailed(SourceLocation, command: String, status: Int32)
    /// crib received `signal` while the RUN step at `location` ran, and stopped the step.
    case runInterrupted(SourceLocation, command: String, signal: Int32)
    /// The requested `--target` names no stage.
    case targetNotFound(String)
    /// A `--build-arg` or similar option the user typed is malformed.
    case invalidOption(String)
    /// ADD could not fetch `url`: the connection failed or the server responded with an error status.
    case fetchFailed(SourceLocation, url: String, reason: String)
    /// The data ADD fetched from `url` does not have the digest its `--checksum` names.
    case checksumMismatch(SourceLocation, url: String, expected: String, actual: String)
    /// A FROM or `--from` image is not in the store, cannot be copied in, or is not for the
    /// requested platform.
    case imageUnavailable(String, reason: String)
    /// The step at `location` failed with an error of another module, such as ENOSPC while its
    /// layer is written or a USER the image does not define. `reason` is that error's description.
    case layerFailed(SourceLocation, instruction: String, reason: String)
    case io(SystemError)

    public var description: String {
        switch self {
        case .syntax(let location, let message):
            return "\(location): \(message)"
        case .invalidInstruction(let location, let message):
            return "\(location): \(message)"
        case .invalidIgnorePattern(let file, let line, let pattern, let reason):
            return "\(file):\(line): invalid pattern \"\(pattern)\": \(reason)"
        case .runInterrupted(let location, let command, let signal):
            let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal] ?? "signal \(signal)"
            return "\(location): \(command) interrupted by \(name); the step was stopped and no image was written"
        case .runFailed(let location, let command, let status):
            return "\(location): \(command) failed with exit status \(status)"
        case .targetNotFound(let target):
            return "target stage \"\(target)\" not found in the Dockerfile"
        case .invalidOption(let message):
            return message
        case .fetchFailed(let location, let url, let reason):
            return "\(location): failed to fetch \(url): \(reason)"
        case .checksumMismatch(let location, let url, let expected, let actual):
            return "\(location): ADD checksum mismatch for \(url): expected \(expected), got \(actual)"
        case .imageUnavailable(let reference, let reason):
            return "image \(reference): \(reason)"
        case .layerFailed(let location, let instruction, let reason):
            return "\(location): \(instruction): \(reason)"
        case .io(let error):
            return error.description
        }
    }
}
