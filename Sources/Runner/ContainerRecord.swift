import Foundation
import OCI

/// The state of one container, kept in `<root>/containers/<id>/container.json`.
public struct ContainerRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case created, running, exited
    }

    public var id: String
    public var name: String
    public var image: String
    /// The manifest digest of the container's image, so that rmi can find the containers on
    /// its layers. A run with --rootfs has none.
    public var imageDigest: Digest?
    public var command: [String]
    /// RFC 3339.
    public var created: String
    public var state: State
    public var exitCode: Int32?
    /// The crib process that runs the container and its shim, while it runs.
    public var cribPID: Int32?
    public var relayPID: Int32?
    public var ports: [String]
    /// The crib process that removes the container when it ends (`run --rm`, checkpoint), set
    /// from creation on. Nil for a container that is kept.
    public var ownerPID: Int32?

    public init(id: String, name: String, image: String, command: [String], created: String) {
        self.id = id
        self.name = name
        self.image = image
        self.command = command
        self.created = created
        self.state = .created
        self.ports = []
    }

    /// Whether the container was to be removed by a crib process that is gone, such as one
    /// killed with SIGKILL. A PID that a new process reuses keeps the container until that one ends.
    public var isAbandoned: Bool {
        guard let ownerPID, ownerPID != getpid() else { return false }
        return kill(ownerPID, 0) != 0 && errno == ESRCH
    }

    /// Whether the process that ran the container is still there; a record left `running` by
    /// a crib that was killed reads as exited.
    public var isRunning: Bool {
        guard state == .running, let cribPID else { return false }
        return kill(cribPID, 0) == 0 || errno == EPERM
    }
}
