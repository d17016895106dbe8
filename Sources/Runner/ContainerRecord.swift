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

    public init(id: String, name: String, image: String, command: [String], created: String) {
        self.id = id
        self.name = name
        self.image = image
        self.command = command
        self.created = created
        self.state = .created
        self.ports = []
    }

    /// Whether the process that ran the container is still there; a record left `running` by
    /// a crib that was killed reads as exited.
    public var isRunning: Bool {
        guard state == .running, let cribPID else { return false }
        return kill(cribPID, 0) == 0 || errno == EPERM
    }
}
