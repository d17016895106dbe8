/// One `RUN --mount` of a planned step, with every value expanded and every default applied.
///
/// The mount exists only while the step's command runs: nothing below `target` enters the
/// step's layer, and neither does the mount point when the image lacked it.
public struct RunMount: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// A directory or file of the context, a stage or an image.
        case bind
        /// A directory kept under the crib root between builds.
        case cache
        /// An empty tmpfs.
        case tmpfs
        /// A file given with `crib build --secret`.
        case secret
    }

    /// The tree that a bind mount's `source` is in.
    public enum Origin: Hashable, Sendable {
        case context
        case stage(Int)
        case image(String)
    }

    /// The rule by which builds that run at the same time share a cache directory.
    public enum Sharing: String, Hashable, Sendable {
        /// Every build uses the directory at once.
        case shared
        /// A build that finds the directory in use gets an empty one of its own.
        case `private`
        /// A build waits until no other build uses the directory.
        case locked
    }

    public var kind: Kind
    /// The absolute path in the container.
    public var target: String
    /// For a bind mount, the path in `origin`, cleaned and relative to its root.
    public var source: String
    public var origin: Origin
    public var readOnly: Bool
    /// The cache's or secret's id; nil for bind and tmpfs mounts.
    public var id: String?
    public var sharing: Sharing
    /// Permission bits of a new cache directory or of a secret file.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// A tmpfs's size in bytes, or nil for the kernel's default of half the memory.
    public var size: UInt64?
    /// For a secret: whether the build fails when the secret was not given.
    public var required: Bool
    /// For a secret: an environment variable of the command that gets the secret's value.
    public var environmentVariable: String?
    /// Whether a file is mounted at `target`; false for a secret with `env=` and no `target=`.
    public var mountsFile: Bool

    /// The options that decide what the command finds at the target, as one line for the cache key. A
    /// secret's value is not part of it, only its id.
    public var keyText: String {
        var fields = ["type=\(kind.rawValue)", "target=\(target)"]
        switch kind {
        case .bind:
            let from: String
            switch origin {
            case .context: from = "context"
            case .stage(let index): from = "stage:\(index)"
            case .image(let reference): from = "image:\(reference)"
            }
            fields += ["from=\(from)", "source=\(source)"]
        case .cache:
            fields += [
                "id=\(id ?? "")", "sharing=\(sharing.rawValue)", "mode=\(String(mode, radix: 8))", "uid=\(uid)",
                "gid=\(gid)",
            ]
        case .tmpfs:
            fields.append("size=\(size.map(String.init) ?? "default")")
        case .secret:
            fields += [
                "id=\(id ?? "")", "mode=\(String(mode, radix: 8))", "uid=\(uid)", "gid=\(gid)", "required=\(required)",
                "env=\(environmentVariable ?? "")", "file=\(mountsFile)",
            ]
        }
        fields.append(readOnly ? "ro" : "rw")
        return fields.joined(separator: ",")
    }
}
