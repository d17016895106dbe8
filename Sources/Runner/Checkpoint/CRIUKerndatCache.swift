import CRunnerShim
import Foundation
import OCI

/// A host-side store of criu's kernel feature cache (`/run/criu.kdat`), one file for each
/// criu binary and capability set, kept between restores until the host reboots.
///
/// criu 4.2.1 probes the kernel on every run unless `/run/criu.kdat` already contains the
/// results. The probe creates a network namespace, tries TCP repair and parses the vDSO, which
/// took about 30 ms of a 55 ms restore on this project's 2-core test VM (criu's own log
/// timestamps). criu writes the file only when `/run` is a tmpfs. A container's `/run` is
/// part of its overlay, so without this cache every restore probed again.
///
/// The cache directory is a tmpfs directory that only this user can write (`/dev/shm`), so
/// a reboot, which can change the kernel, empties it. crib bind-mounts a cached file read-only
/// at `/run/criu.kdat` in the restoring container. On a miss it first runs the image's criu once
/// with that directory as `/run`, so that criu probes and writes the file there.
///
/// NOTE: nothing removes a file before the next reboot; each criu layer and capability set
/// adds one of about 1 KB.
public struct CRIUKerndatCache: Sendable {
    /// The path of criu's cache file in the container.
    public static let containerPath = "/run/criu.kdat"

    public let directory: String

    /// Returns the cache of the current user, or nil when `/dev/shm` is not a tmpfs or the
    /// directory there belongs to someone else or others may write to it.
    public static func forCurrentUser(parent: String = "/dev/shm") -> CRIUKerndatCache? {
        guard crib_is_tmpfs(parent) == 1 else { return nil }
        let directory = parent + "/crib-criu-kdat-\(geteuid())"
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return nil }
        // Another user could have made this path first, to feed a crafted cache to root's criu.
        var status = stat()
        guard lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == geteuid(),
            status.st_mode & 0o077 == 0
        else { return nil }
        return CRIUKerndatCache(directory: directory)
    }

    /// Returns the cache file for the criu at `criu` (a path in the container) found in the
    /// layer directory `layer`, run with `spec`'s capabilities. The layer directory's name is
    /// the layer's digest, so a different criu binary gets a different file.
    public func file(criu: String, layer: String, spec: ContainerSpec) -> String {
        let layerName = (layer as NSString).lastPathComponent.replacingOccurrences(of: ":", with: "-")
        let program = criu.split(separator: "/").joined(separator: "_")
        let mask = spec.privileged ? "privileged" : String(Capability.mask(spec.grantedCapabilities), radix: 16)
        let mode = Container.isRootless ? "unprivileged" : "root"
        return directory + "/\(layerName)-\(program)-\(mask)-\(mode).kdat"
    }

    /// Makes sure the cache file for `spec`'s restore exists and bind-mounts it at
    /// `/run/criu.kdat`. A restore without the cache still works, so failures are only logged.
    public func attach(
        to spec: inout ContainerSpec, criu: String, layer: String, executable: String = "/proc/self/exe",
        log: any LogSink
    ) {
        let cached = file(criu: criu, layer: layer, spec: spec)
        if access(cached, R_OK) != 0 {
            do {
                try generate(cached, spec: spec, criu: criu, executable: executable, log: log)
            } catch {
                log.log(.debug, "failed to make criu's kernel feature cache \(cached): \(error)")
                return
            }
        }
        spec.binds.append(ContainerSpec.BindMount(source: cached, destination: Self.containerPath, readOnly: true))
        Self.pointUnprivilegedCRIUAtRun(&spec)
    }

    /// Sets `XDG_RUNTIME_DIR=/run` without root. criu 4.2.1 in `--unprivileged` mode, which
    /// crib selects then, keeps its cache in `$XDG_RUNTIME_DIR` instead of `/run`. The restored
    /// processes keep the environment they were dumped with, so only criu and a
    /// self-checkpointing image's script see the variable.
    static func pointUnprivilegedCRIUAtRun(_ spec: inout ContainerSpec) {
        guard Container.isRootless else { return }
        spec.environment.removeAll { $0.hasPrefix("XDG_RUNTIME_DIR=") }
        spec.environment.append("XDG_RUNTIME_DIR=/run")
    }

    /// Runs `criu restore` of an empty images directory in a container like the restoring one,
    /// with a fresh directory of the cache as `/run`. criu probes the kernel, saves the result
    /// there and then fails because the directory has no images.
    private func generate(_ cached: String, spec: ContainerSpec, criu: String, executable: String, log: any LogSink) throws {
        var template = Array((directory + "/probe.XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw RunnerError.io(SystemError("mkdtemp", path: directory)) }
        let probeDirectory = String(cString: template)
        defer { try? FileManager.default.removeItem(atPath: probeDirectory) }
        // Root in a rootless container is this user, who owns the directory already.
        chmod(probeDirectory, 0o700)

        var probe = spec
        // Its own upper and work directories, so that nothing the probe writes reaches the restore.
        if case .overlay(let lower, _, _, let mountPoint) = spec.rootfs {
            let upper = spec.stateDirectory + "/kdat-upper"
            let work = spec.stateDirectory + "/kdat-work"
            for path in [upper, work] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            probe.rootfs = .overlay(lower: lower, upper: upper, work: work, mountPoint: mountPoint)
        }
        probe.arguments = [criu, "restore", "--images-dir", "/run", "--log-file", "/dev/null"]
        if Container.isRootless { probe.arguments.append("--unprivileged") }
        Self.pointUnprivilegedCRIUAtRun(&probe)
        probe.uid = 0
        probe.gid = 0
        probe.supplementaryGroups = []
        probe.workingDirectory = "/"
        probe.ports = []
        probe.binds.append(ContainerSpec.BindMount(source: probeDirectory, destination: "/run"))
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw RunnerError.io(SystemError("open", path: "/dev/null")) }
        defer { close(null) }
        probe.standardInput = null
        probe.standardOutput = null
        probe.standardError = null

        let container = Container(spec: probe, executable: executable, log: log)
        try container.start()
        // criu exits 1 here: the images directory is empty on purpose.
        _ = container.wait()
        for path in [spec.stateDirectory + "/kdat-upper", spec.stateDirectory + "/kdat-work"] {
            try? FileManager.default.removeItem(atPath: path)
        }
        let written = probeDirectory + "/criu.kdat"
        try checkSyscall("rename", path: written) { rename(written, cached) }
        log.log(.debug, "saved criu's kernel feature cache as \(cached)")
    }
}
