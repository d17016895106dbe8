import Foundation
import Layering
import OCI
import Runner

extension BuildExecutor {
    /// The PATH a RUN gets when the image sets none, as buildkit and buildah use.
    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    func executeRun(_ run: RunStep, step: PlannedStep, state: inout ImageState) throws {
        let location = step.instruction.location
        // A step without mounts keys on its summary alone, so the cached path does no more work.
        let mountKey = try mountKey(run.mounts, at: location)
        let key = BuildCache.key(parent: state.key, summary: step.summary + mountKey.text, content: mountKey.content)
        if reuseCachedLayer(key, state: &state) { return }
        let mounts = try prepareMounts(run.mounts, at: location)
        defer { mounts.release() }

        var lowers = try layerDirectories(state)
        let directory = try temporaryDirectory("run")
        let upper = directory + "/upper"
        let work = directory + "/work"
        let mountPoint = directory + "/rootfs"
        let stateDirectory = directory + "/state"
        for path in [upper, work, mountPoint, stateDirectory] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        if lowers.isEmpty {
            // overlayfs needs at least one lower directory; FROM scratch has none.
            let empty = directory + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            lowers = [empty]
        }

        // WORKDIR creates its directory when it is missing, so that the command can start there;
        // it lands in this step's layer.
        let view = LayerStackView(directories: lowers)
        if !view.isDirectory(run.workingDirectory) {
            try FileManager.default.createDirectory(atPath: upper + run.workingDirectory, withIntermediateDirectories: true)
        }

        var arguments: [String]
        var scriptPath: String?
        switch run.command {
        case .argv(let argv):
            arguments = argv
        case .script(let name, let content):
            // A #! heredoc runs as a file; it is written into the upper directory and removed
            // before the diff, so it leaves no trace in the layer.
            let path = "/.crib-heredoc-\(name)-\(UUID().uuidString.prefix(8))"
            try Data(content.utf8).write(to: URL(fileURLWithPath: upper + path))
            try checkSyscall("chmod", path: upper + path) { chmod(upper + path, 0o755) }
            scriptPath = upper + path
            arguments = [path]
        }

        var environment = run.environment
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) { environment.insert(Self.defaultPath, at: 0) }
        environment += mounts.environment
        var spec = ContainerSpec(
            rootfs: .overlay(lower: lowers, upper: upper, work: work, mountPoint: mountPoint), arguments: arguments,
            environment: environment, stateDirectory: stateDirectory)
        spec.workingDirectory = run.workingDirectory
        spec.mounts = mounts.mounts
        switch run.network ?? buildOptions.network ?? "host" {
        case "none": spec.network = .none
        case "private": spec.network = .bridge
        default: spec.network = .host
        }
        if let user = run.user {
            let resolved = try UserResolver.load(fromLayers: lowers).resolve(user)
            spec.uid = resolved.uid
            spec.gid = resolved.gid
            spec.supplementaryGroups = resolved.supplementaryGroups
        }

        // The command reads nothing, and its output goes to stderr with the STEP lines, so that
        // stdout carries only the image id.
        let devNull = try checkSyscall("open", path: "/dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        defer { close(devNull) }
        spec.standardInput = devNull
        spec.standardOutput = STDERR_FILENO
        spec.standardError = STDERR_FILENO

        let mountPoints = CreatedMountPoints(targets: spec.mountTargets, view: view, workingDirectory: run.workingDirectory)
        let container = Container(spec: spec, executable: options.executable, log: log)
        try container.start()
        container.stopOnSignals(grace: 2)
        let status = container.wait()
        if let scriptPath { try? FileManager.default.removeItem(atPath: scriptPath) }
        if let signal = container.stopSignal {
            throw BuildError.runInterrupted(location, command: step.instruction.text, signal: signal)
        }
        guard status == 0 else {
            throw BuildError.runFailed(location, command: step.instruction.text, status: status)
        }
        mountPoints.remove(from: upper)

        // NOTE: without root, the upper directory is read from outside the container's user
        // namespace, so a directory the step left to a subordinate id with mode 0700 cannot be
        // read and the step fails. Reading it from inside the namespace would need the diff to
        // run in a child process there.
        let diffID = try Self.locatingErrors(of: step) {
            try writeLayer(key: key, createdBy: HistoryText.run(step.summary), state: &state) { writer in
                try LayerDiff.addOverlayUpper(upper, to: writer)
            }
        }

        // The upper directory is this layer in the overlay format of the layer cache, so it
        // becomes the layer's directory and the next RUN does not unpack the blob again. With
        // --timestamp the blob's file times are clamped and the upper's are not, so a later
        // RUN must see the unpacked blob to stay reproducible.
        if options.timestamp == nil && !layerCache.contains(diffID) {
            try FileManager.default.createDirectory(atPath: root.layers, withIntermediateDirectories: true)
            if rename(upper, layerCache.directory(for: diffID)) != 0 {
                log.log(.debug, "layer \(diffID.shortID) was not moved into the layer cache: \(SystemError("rename", path: upper))")
            } else {
                DurableStep.completed("rename of RUN upper directory into layer \(diffID)")
            }
        }
    }
}
