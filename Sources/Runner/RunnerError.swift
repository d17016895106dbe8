import Foundation
import OCI

/// Errors of the Runner module. Each case names the object involved; `description` is one
/// lowercase line: what failed, on which value, then the cause.
public enum RunnerError: Error, CustomStringConvertible, Sendable {
    /// The shim failed while setting up the container, before the command ran.
    case setupFailed(stage: String, message: String)
    /// The command could not be run: not found (127) or not executable (126).
    case commandFailed(command: String, message: String, errno: Int32)
    case invalidOption(String, value: String, reason: String)
    case invalidSeccompProfile(path: String, reason: String)
    case seccompFailed(operation: String, syscall: String?, errno: Int32)
    case userNotFound(String)
    case groupNotFound(String)
    case containerNotFound(String)
    case containerRunning(String)
    case nameInUse(String)
    case imageInUse(image: String, containers: [String])
    case removeFailed(path: String, reason: String)
    case rootlessUnsupported(feature: String, reason: String)
    case invalidCheckpoint(image: String, reason: String)
    case cannotRestore(image: String, reason: String)
    case checkpointFailed(image: String, reason: String)
    case io(SystemError)

    public var description: String {
        switch self {
        case .setupFailed(let stage, let message):
            return "failed to set up the container (\(stage)): \(message)"
        case .commandFailed(let command, let message, _):
            return "failed to run \(command) in the container: \(message)"
        case .invalidOption(let option, let value, let reason):
            return "invalid \(option) \"\(value)\": \(reason)"
        case .invalidSeccompProfile(let path, let reason):
            return "invalid seccomp profile \(path): \(reason)"
        case .seccompFailed(let operation, let syscall, let errno):
            let subject = syscall.map { " for \($0)" } ?? ""
            return "failed to \(operation)\(subject): \(String(cString: strerror(errno))) (errno \(errno))"
        case .userNotFound(let user):
            return "failed to find user \"\(user)\" in the container's /etc/passwd"
        case .groupNotFound(let group):
            return "failed to find group \"\(group)\" in the container's /etc/group"
        case .containerNotFound(let name):
            return "container not found: \(name)"
        case .containerRunning(let name):
            return "failed to remove container \(name): it is running (use --force to stop it first)"
        case .nameInUse(let name):
            return "failed to create container \(name): the name is already in use"
        case .imageInUse(let image, let containers):
            let noun = containers.count == 1 ? "container" : "containers"
            return "failed to remove image \(image): it is used by \(noun) \(containers.joined(separator: ", ")) (use --force to remove them too)"
        case .removeFailed(let path, let reason):
            return "failed to remove \(path): \(reason)"
        case .rootlessUnsupported(let feature, let reason):
            return "\(feature) cannot work without root: \(reason)"
        case .invalidCheckpoint(let image, let reason):
            return "failed to read the checkpoint of \(image): \(reason)"
        case .cannotRestore(let image, let reason):
            return "failed to restore \(image): \(reason)"
        case .checkpointFailed(let image, let reason):
            return "failed to checkpoint \(image): \(reason)"
        case .io(let error):
            return error.description
        }
    }

    /// The exit status `crib run` reports: 127 for a command not found, 126 for one that
    /// cannot run, 125 for everything crib itself failed at.
    public var exitStatus: Int32 {
        if case .commandFailed(_, _, let errno) = self { return errno == ENOENT ? 127 : 126 }
        return 125
    }
}
