import Foundation

/// Everything the runtime needs to set up and start one container.
public struct ContainerSpec: Sendable {
    /// The source of the container's root file system.
    public enum Rootfs: Sendable {
        /// A prepared directory used as it is; what the container writes lands in it.
        case directory(String)
        /// An overlay of read-only lower directories (top first) with the container's own
        /// upper and work directories, mounted at `mountPoint`.
        case overlay(lower: [String], upper: String, work: String, mountPoint: String)

        /// The host path that becomes the container's `/`.
        public var mountPoint: String {
            switch self {
            case .directory(let path): return path
            case .overlay(_, _, _, let mountPoint): return mountPoint
            }
        }
    }

    public enum Network: String, Sendable {
        /// The host's network namespace.
        case host
        /// A private network namespace with only loopback.
        case none
        /// A private network namespace with loopback up, reachable through published ports.
        case bridge = "private"
    }

    /// A `-v SRC:DST[:ro]` bind mount from the host.
    public struct BindMount: Sendable, Equatable {
        public var source: String
        public var destination: String
        public var readOnly: Bool

        public init(source: String, destination: String, readOnly: Bool = false) {
            self.source = source
            self.destination = destination
            self.readOnly = readOnly
        }
    }

    /// A mount that a build step requests: a host path bound, a tmpfs, or an overlay whose
    /// changes are discarded with its upper directory. Mounted after `binds`, in order, so
    /// that a later mount may sit inside an earlier one.
    public struct Mount: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case bind(source: String)
            /// `options` are tmpfs's own, such as `size=64m`.
            case tmpfs(options: String)
            /// An overlay of a read-only `lower` directory with a writable `upper` and `work`
            /// directory, so that what the container writes lands in `upper` only.
            case overlay(lower: String, upper: String, work: String)
        }

        public var kind: Kind
        public var destination: String
        public var readOnly: Bool

        public init(_ kind: Kind, destination: String, readOnly: Bool = false) {
            self.kind = kind
            self.destination = destination
            self.readOnly = readOnly
        }
    }

    public var rootfs: Rootfs
    public var arguments: [String]
    /// `KEY=VALUE` entries, in order.
    public var environment: [String]
    public var workingDirectory = "/"
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var supplementaryGroups: [UInt32] = []
    public var hostname = "crib"
    public var network = Network.bridge
    /// The container's bounding set; uid 0 also gets it as permitted and effective.
    public var capabilities = Capability.defaultSet
    /// Capabilities asked for by name; a non-root user gets them as ambient capabilities.
    public var addedCapabilities: Set<Capability> = []
    /// All capabilities, no seccomp, no no_new_privs, /sys and /proc unprotected.
    public var privileged = false
    public var noNewPrivileges = true
    /// nil runs unconfined.
    public var seccomp: SeccompProfile? = .defaultProfile
    public var binds: [BindMount] = []
    public var mounts: [Mount] = []
    /// Makes /proc/sys/kernel/ns_last_pid writable under the otherwise read-only /proc/sys.
    public var writableLastPid = false
    /// ns_last_pid before the command starts, so that its PID is pidOffset + 1.
    public var pidOffset: UInt32 = 1000
    public var ports: [PortMapping] = []
    /// A directory of the container's own, for /etc/hosts, /etc/hostname and /etc/resolv.conf.
    public var stateDirectory: String
    /// Makes init forward signals to every process in the container and end when the last
    /// one has, with its status, instead of with the command. A restore needs this: the
    /// restored tree outlives the `criu restore` that started it.
    public var waitsForAllProcesses = false
    /// Descriptors to use as the command's stdin, stdout and stderr instead of crib's own.
    public var standardInput: Int32?
    public var standardOutput: Int32?
    public var standardError: Int32?

    public init(rootfs: Rootfs, arguments: [String], environment: [String], stateDirectory: String) {
        self.rootfs = rootfs
        self.arguments = arguments
        self.environment = environment
        self.stateDirectory = stateDirectory
    }

    /// The bounding set actually applied.
    public var grantedCapabilities: Set<Capability> {
        privileged ? Capability.all() : capabilities
    }

    /// Whether ns_last_pid ends up writable: asked for, or needed by CHECKPOINT_RESTORE.
    public var lastPidWritable: Bool {
        privileged || writableLastPid || grantedCapabilities.contains(.checkpointRestore)
    }
}
