import Foundation

extension Container {
    /// The program crib spawns as a container's shim: `crib-shim` from the same build, beside
    /// crib's own executable, or else crib itself (`/proc/self/exe`), whose constructor runs
    /// the same C code.
    ///
    /// crib-shim loads libc and little else. A second start of crib loads the Swift runtime,
    /// Foundation and libcurl's dependencies first, about 5 ms more of each container start on
    /// the 2-core test VM (`perf stat` of both release binaries started as a shim with invalid
    /// descriptors: 7.4 ms against 2.0 ms).
    ///
    /// crib runs the file as root, so it is used only when it and its directory belong to root
    /// or to crib's own user and no one else may write to them.
    /// NOTE: crib-shim must come from the same build as crib: the configuration records that
    /// crib writes to it have no version.
    static let shimExecutable: String = findShimExecutable() ?? "/proc/self/exe"

    private static func findShimExecutable() -> String? {
        guard let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let directory = (own as NSString).deletingLastPathComponent
        let candidate = directory + "/crib-shim"
        guard isTrusted(directory, type: S_IFDIR), isTrusted(candidate, type: S_IFREG) else { return nil }
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    private static func isTrusted(_ path: String, type: mode_t) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == type else { return false }
        guard status.st_uid == 0 || status.st_uid == geteuid() else { return false }
        return status.st_mode & 0o022 == 0
    }
}
