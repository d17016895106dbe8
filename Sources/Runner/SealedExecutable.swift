import CRunnerShim
import Foundation
import OCI

/// Sealed in-memory copies of the binaries that container shims start from, one per path for
/// the life of this process.
///
/// Until a container's command executes, each of its processes runs the shim's binary: init,
/// the command's own process and a joined process. A command that is /proc/self/exe, or a
/// script with it as interpreter, runs that binary again inside the container with the
/// container's credentials. Started from the host's file, any of these /proc/PID/exe links is
/// a handle on it, which a container process can keep and write through once no process runs
/// the file any more (runc's CVE-2019-5736). A copy in a memfd with write seals is no such
/// handle: the container may read it, but writes fail and the host file stays out of reach.
///
/// NOTE: a kernel with vm.memfd_noexec=2 refuses executable memfds, and crib then fails to
/// start any container with an error naming the copy, rather than run from the host's file.
enum SealedExecutable {
    private static let lock = NSLock()
    private static var copies: [String: Int32] = [:]

    /// Returns /proc/self/fd/N of a sealed copy of `executable`, made on first use.
    ///
    /// The descriptor is close-on-exec, which execve applies only after it has opened the path,
    /// so a spawned child starts from the copy and inherits no descriptor of it.
    static func path(for executable: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let descriptor = copies[executable] { return "/proc/self/fd/\(descriptor)" }

        let copy = crib_sealed_copy(executable)
        guard copy >= 0 else { throw SystemError("make a sealed copy of", path: executable) }
        // Above the numbers posix_spawn's dup2 actions write (stdio and the shim's 3, 4 and 5),
        // so that no action replaces the copy before the child executes it.
        let descriptor = fcntl(copy, F_DUPFD_CLOEXEC, 64)
        let saved = errno
        close(copy)
        guard descriptor >= 0 else { throw SystemError("fcntl F_DUPFD_CLOEXEC", path: executable, errno: saved) }
        copies[executable] = descriptor
        return "/proc/self/fd/\(descriptor)"
    }
}
