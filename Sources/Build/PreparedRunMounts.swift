import Foundation
import OCI
import Runner

/// The host side of a RUN step's `--mount`s while its command runs: the container's mounts,
/// the variables secrets add to its environment, the cache locks it holds and the files it
/// made. `release()` gives them back once the command has ended.
final class PreparedRunMounts {
    var mounts: [ContainerSpec.Mount] = []
    /// `NAME=VALUE` entries for secrets with `env=`.
    var environment: [String] = []
    var locks: [FileLock] = []
    /// The directory each cache id got in this step, so that a second mount of the same id
    /// shares it instead of waiting for the lock the first one holds.
    var cacheDirectories: [String: String] = [:]
    /// Directories removed by `release()`: secret files and the upper directories of
    /// writable bind mounts, whose changes are discarded.
    var temporaryPaths: [String] = []
    private let log: any LogSink

    init(log: any LogSink) {
        self.log = log
    }

    deinit { release() }

    func release() {
        for lock in locks { lock.unlock() }
        locks.removeAll()
        for path in temporaryPaths {
            // A secret must not outlive the step, so a failure to remove one is reported. The
            // build's own cleanup tries again at its end.
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                log.log(.warning, "failed to remove \(path) after the RUN step: \(error)")
            }
        }
        temporaryPaths.removeAll()
    }
}
