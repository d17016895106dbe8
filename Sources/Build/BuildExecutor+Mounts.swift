import CRunnerShim
import Foundation
import Layering
import OCI
import Runner

extension BuildExecutor {
    /// Returns what a RUN step's mounts add to its cache key: one line of options per mount,
    /// and a digest of what bind mounts show. A context source enters by its content, a stage
    /// by its key, an image by its digest. Cache directories, tmpfs and secret values do not
    /// enter at all, so a step with only those mounts hits the cache whatever they hold.
    func mountKey(_ mounts: [RunMount], at location: SourceLocation) throws -> (text: String, content: Digest?) {
        guard !mounts.isEmpty else { return ("", nil) }
        var lines = [String]()
        var content = SHA256Hasher()
        for mount in mounts {
            lines.append("\nMOUNT " + mount.keyText)
            guard mount.kind == .bind else { continue }
            let source: String
            switch mount.origin {
            case .context:
                // NOTE: .dockerignore does not hide files from a context bind mount, as it does in
                // buildkit. The mount shows the directory as it is, so the key hashes all of it.
                let selection = try CopySelection(
                    root: context.directory, ignore: DockerIgnore(), excludes: [], location: location,
                    keyword: "RUN --mount")
                let items = try selection.items(sources: [mount.source], destination: "/", destinationIsDirectory: true)
                source = "context \(try CopySelection.contentDigest(items, files: fileDigests))"
            case .stage(let index):
                source = "stage \(stageStates[index]?.key.description ?? "")"
            case .image(let reference):
                source = "image \(try sourceImage(reference, keyword: "RUN --mount", at: location).digest)"
            }
            content.update(Data("\(mount.target)\u{0}\(source)\n".utf8))
        }
        return (lines.joined(), content.finalize())
    }

    /// Sets up the host side of a RUN step's mounts.
    ///
    /// - Throws: `BuildError.invalidInstruction` naming the line when a bind source is missing
    ///   or a required secret was not given.
    func prepareMounts(_ mounts: [RunMount], at location: SourceLocation) throws -> PreparedRunMounts {
        let prepared = PreparedRunMounts(log: log)
        do {
            for mount in mounts {
                switch mount.kind {
                case .bind: try prepareBind(mount, at: location, into: prepared)
                case .cache: try prepareCache(mount, at: location, into: prepared)
                case .tmpfs:
                    prepared.mounts.append(
                        ContainerSpec.Mount(
                            .tmpfs(options: mount.size.map { "size=\($0)" } ?? ""), destination: mount.target,
                            readOnly: mount.readOnly))
                case .secret: try prepareSecret(mount, at: location, into: prepared)
                }
            }
        } catch {
            prepared.release()
            throw error
        }
        return prepared
    }

    // MARK: - Bind

    private func prepareBind(_ mount: RunMount, at location: SourceLocation, into prepared: PreparedRunMounts) throws {
        let root: String
        let description: String
        switch mount.origin {
        case .context:
            root = context.directory
            description = "the build context"
        case .stage(let index):
            guard let state = stageStates[index] else { throw BuildError.targetNotFound(String(index)) }
            root = try flatten(state)
            description = "stage \(context.dockerfile.stages[index].displayName)"
        case .image(let reference):
            let image = try sourceImage(reference, keyword: "RUN --mount", at: location)
            let state = ImageState(
                layers: image.manifest.layers, diffIDs: image.config.rootfs.diffIDs, history: [], key: image.digest)
            root = try flatten(state)
            description = "image \(reference)"
        }

        // The source is resolved inside its root as if the root were /, so a symlink in the
        // context or the image cannot point the mount at a host path outside it. The host path
        // built from the result passes through no symlink.
        // NOTE: the shim binds that path by name, so a symlink swapped into the context after
        // this check and before the mount would still be followed.
        let host: String
        do {
            let rooted = try RootedDirectory(path: root)
            let relative = try rooted.resolve(mount.source)
            let canonical = try rooted.canonicalPath()
            host = relative == "." ? canonical : (canonical == "/" ? "" : canonical) + "/" + relative
        } catch let error as SystemError where error.errno == ENOENT || error.errno == ENOTDIR {
            throw BuildError.invalidInstruction(
                location, "RUN --mount source \"\(mount.source)\" not found in \(description)")
        } catch let error as SystemError {
            throw BuildError.invalidInstruction(
                location, "failed to resolve RUN --mount source \"\(mount.source)\" in \(description): \(error)")
        } catch let error as LayeringError {
            throw BuildError.invalidInstruction(
                location, "RUN --mount source \"\(mount.source)\" is outside \(description): \(error)")
        }

        if mount.readOnly {
            prepared.mounts.append(ContainerSpec.Mount(.bind(source: host), destination: mount.target, readOnly: true))
            return
        }

        // rw: the command may write, and what it writes is dropped with the step. A directory
        // gets an overlay with a throwaway upper directory; a file gets a throwaway copy.
        let scratch = try temporaryDirectory("mount-rw")
        prepared.temporaryPaths.append(scratch)
        var status = stat()
        try checkSyscall("stat", path: host) { stat(host, &status) }
        if status.st_mode & S_IFMT == S_IFDIR {
            let upper = scratch + "/upper"
            let work = scratch + "/work"
            for path in [upper, work] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            prepared.mounts.append(
                ContainerSpec.Mount(.overlay(lower: host, upper: upper, work: work), destination: mount.target))
        } else {
            let copy = scratch + "/" + (host as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: host, toPath: copy)
            prepared.mounts.append(ContainerSpec.Mount(.bind(source: copy), destination: mount.target))
        }
    }

    // MARK: - Cache

    private func prepareCache(_ mount: RunMount, at location: SourceLocation, into prepared: PreparedRunMounts) throws {
        let id = mount.id ?? mount.target
        if let directory = prepared.cacheDirectories[id] {
            prepared.mounts.append(
                ContainerSpec.Mount(.bind(source: directory), destination: mount.target, readOnly: mount.readOnly))
            return
        }
        let mounts = root.cache + "/mounts"
        try FileManager.default.createDirectory(atPath: mounts, withIntermediateDirectories: true)
        // Ids may contain slashes, so the directory is named by the id's digest.
        var directory = mounts + "/" + Digest.sha256(Data(id.utf8)).encoded

        let lock = try FileLock(path: directory + ".lock")
        switch mount.sharing {
        case .shared:
            try lock.lock(exclusive: false)
            prepared.locks.append(lock)
        case .locked:
            try lock.lock(exclusive: true)
            prepared.locks.append(lock)
        case .private:
            if try lock.tryLock(exclusive: true) {
                prepared.locks.append(lock)
            } else {
                // Another build is using the cache: this step gets an empty one that goes with it.
                directory = try temporaryDirectory("mount-cache") + "/cache"
                prepared.temporaryPaths.append((directory as NSString).deletingLastPathComponent)
            }
        }

        if !FileManager.default.fileExists(atPath: directory) {
            try createOwnedItem(directory, mode: mount.mode, uid: mount.uid, gid: mount.gid, for: mount, at: location)
        }
        prepared.cacheDirectories[id] = directory
        prepared.mounts.append(
            ContainerSpec.Mount(.bind(source: directory), destination: mount.target, readOnly: mount.readOnly))
    }

    /// Creates a directory, or a file with `data`, with the mode and owner a mount requests.
    /// Without root the host user is root in the container, and no other owner is possible.
    private func createOwnedItem(
        _ path: String, mode: UInt32, uid: UInt32, gid: UInt32, for mount: RunMount, at location: SourceLocation,
        data: Data? = nil
    ) throws {
        let staging = path + ".new-\(UUID().uuidString.prefix(8))"
        if let data {
            // Created readable by its owner only, so the secret is never open to others, even briefly.
            let descriptor = try checkSyscall("create", path: staging) {
                open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            }
            defer { close(descriptor) }
            try data.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    offset += try checkSyscall("write", path: staging) {
                        write(descriptor, base + offset, buffer.count - offset)
                    }
                }
            }
        } else {
            try checkSyscall("mkdir", path: staging) { mkdir(staging, 0o700) }
        }
        do {
            try checkSyscall("chmod", path: staging) { chmod(staging, mode_t(mode)) }
            if geteuid() == 0 {
                try checkSyscall("chown", path: staging) { chown(staging, uid, gid) }
            } else if uid != 0 || gid != 0 {
                throw BuildError.invalidInstruction(
                    location,
                    "RUN --mount=type=\(mount.kind.rawValue) with uid=\(uid) gid=\(gid) needs root on the host, because crib cannot give a file another owner without it; drop uid= and gid= or build as root"
                )
            }
            // The rename makes the owned result appear at once, so a concurrent build never finds it half set up.
            try checkSyscall("rename", path: staging) { rename(staging, path) }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            // Another build created it first; its directory is as good as this one.
            if data == nil, FileManager.default.fileExists(atPath: path), !(error is BuildError) { return }
            throw error
        }
    }

    // MARK: - Secret

    private func prepareSecret(_ mount: RunMount, at location: SourceLocation, into prepared: PreparedRunMounts) throws
    {
        let id = mount.id ?? ""
        guard let secret = options.secrets[id] else {
            if mount.required {
                throw BuildError.invalidInstruction(
                    location,
                    "RUN --mount=type=secret,id=\(id) is required, but no secret \(id) was given; pass crib build --secret id=\(id),src=PATH"
                )
            }
            // buildkit skips a secret that is not required and not given, and so does crib.
            log.log(.debug, "\(location): secret \(id) not given, so it is not mounted")
            return
        }
        let value: Data
        do {
            value = try secret.value()
        } catch let error as BuildError {
            throw BuildError.invalidInstruction(location, "\(error)")
        }

        if let variable = mount.environmentVariable {
            prepared.environment.append("\(variable)=\(String(decoding: value, as: UTF8.self))")
        }
        guard mount.mountsFile else { return }
        // The copy has the mode and owner the mount requests. It lives in a directory that only
        // crib's user can enter, and is removed as soon as the step ends.
        let directory = try secretDirectory()
        prepared.temporaryPaths.append(directory)
        try checkSyscall("chmod", path: directory) { chmod(directory, 0o700) }
        let file = directory + "/secret"
        try createOwnedItem(
            file, mode: mount.mode, uid: mount.uid, gid: mount.gid, for: mount, at: location, data: value)
        prepared.mounts.append(ContainerSpec.Mount(.bind(source: file), destination: mount.target, readOnly: true))
    }

    /// Returns a new directory for one secret's copy, on the /dev/shm tmpfs when there is one,
    /// so that the value never reaches a disk.
    ///
    /// NOTE: when crib is killed during the step, the copy stays in /dev/shm, readable by
    /// crib's user only, until the machine restarts. A copy in the store's tmp/ would instead
    /// stay on disk until the next crib command removed it.
    func secretDirectory() throws -> String {
        let base = "/dev/shm"
        guard crib_is_tmpfs(base) == 1 else {
            return try temporaryDirectory("mount-secret")
        }
        let path = base + "/crib-secret-\(UUID().uuidString)"
        try checkSyscall("create directory", path: path) { mkdir(path, 0o700) }
        temporaryPaths.append(path)
        return path
    }
}
