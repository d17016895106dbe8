import Foundation

/// The directories under crib's root, as one value passed to every module.
///
/// The root is `/var/lib/crib` for root and `$XDG_DATA_HOME/crib` (default
/// `~/.local/share/crib`) otherwise; `--root DIR` or `CRIB_ROOT` overrides both.
public struct RootDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The root chosen from an explicit path, the environment and the user.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> RootDirectory
    {
        if let explicit, !explicit.isEmpty { return RootDirectory(path: absolute(explicit)) }
        if let fromEnvironment = environment["CRIB_ROOT"], !fromEnvironment.isEmpty {
            return RootDirectory(path: absolute(fromEnvironment))
        }
        if geteuid() == 0 { return RootDirectory(path: "/var/lib/crib") }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return RootDirectory(path: data + "/crib")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return RootDirectory(path: home + "/.local/share/crib")
    }

    /// The OCI image layout: oci-layout, index.json, blobs/.
    public var store: String { path + "/store" }
    /// Unpacked layers by diffID, shared by all containers as overlay lower directories.
    public var layers: String { path + "/layers" }
    /// Build cache entries.
    public var cache: String { path + "/cache" }
    /// Per-container upper and work directories, configuration, log and state.
    public var containers: String { path + "/containers" }
    /// Staging on the same file system as everything else, so that renames are atomic.
    public var tmp: String { path + "/tmp" }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }
}
