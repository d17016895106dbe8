import Foundation
import Layering
import OCI

extension BuildExecutor {
    func executeCopy(_ copy: CopyStep, step: PlannedStep, state: inout ImageState) throws {
        let keyword = copy.isAdd ? "ADD" : "COPY"
        let location = step.instruction.location
        var paths = [String]()
        var heredocs = [(name: String, content: String)]()
        var urls = [String]()
        for source in copy.sources {
            switch source {
            case .path(let path): paths.append(path)
            case .heredoc(let name, let content): heredocs.append((name, content))
            case .url(let url): urls.append(url)
            }
        }

        // The key covers what the step puts into the image. Context sources are hashed. Another
        // stage or image enters through its own key or digest, so a cache hit never flattens it.
        var content = SHA256Hasher()
        var selection: CopySelection?
        var items = [CopyItem]()
        switch copy.origin {
        case .context:
            selection = try CopySelection(root: context.directory, ignore: context.ignore, excludes: copy.excludes, location: location, keyword: keyword)
            if !paths.isEmpty {
                items = try selection?.items(
                    sources: paths, destination: copy.destination, destinationIsDirectory: copy.destinationIsDirectory,
                    keepingParents: copy.parents) ?? []
                content.update(Data(try CopySelection.contentDigest(items, files: fileDigests).description.utf8))
            }
        case .stage(let index):
            content.update(Data("stage \(stageStates[index]?.key.description ?? "")".utf8))
        case .image(let reference):
            content.update(Data("image \(try sourceImage(reference, keyword: keyword, at: location).digest)".utf8))
        }
        for heredoc in heredocs {
            content.update(Data("\(heredoc.name)\u{0}\(heredoc.content.utf8.count)\u{0}\(heredoc.content)".utf8))
        }
        // A URL enters the key through its data's digest, so a changed remote file misses the
        // cache. With --checksum that digest is known before fetching, and a hit fetches nothing.
        var downloads = [String: URLDownload]()
        for url in urls {
            if let checksum = copy.checksum {
                content.update(Data("url \(url)\u{0}\(checksum)".utf8))
            } else {
                let download = try URLDownload.fetch(url, into: try temporaryDirectory("add-url"), at: location)
                downloads[url] = download
                content.update(Data("url \(url)\u{0}\(download.digest)".utf8))
            }
        }
        let contentDigest = content.finalize()
        let key = BuildCache.key(parent: state.key, summary: step.summary, content: contentDigest)
        if reuseCachedLayer(key, state: &state) { return }
        for url in urls where downloads[url] == nil {
            let algorithm = copy.checksum.flatMap { try? Digest(parsing: $0).algorithm } ?? .sha256
            let download = try URLDownload.fetch(url, into: try temporaryDirectory("add-url"), at: location, algorithm: algorithm)
            if let checksum = copy.checksum, download.digest.description != checksum {
                throw BuildError.checksumMismatch(location, url: url, expected: checksum, actual: download.digest.description)
            }
            downloads[url] = download
        }

        let view = LayerStackView(directories: try layerDirectories(state))
        var owner: (uid: UInt32, gid: UInt32)?
        if let chown = copy.chown {
            let users = UserDatabase(passwd: view.readFile("/etc/passwd"), group: view.readFile("/etc/group"))
            owner = try users.resolveOwner(chown, at: location, keyword: keyword)
        }

        switch copy.origin {
        case .context:
            break
        case .stage(let index):
            guard let source = stageStates[index] else { throw BuildError.targetNotFound(String(index)) }
            selection = try CopySelection(
                root: try flatten(source), ignore: DockerIgnore(), excludes: copy.excludes, location: location, keyword: keyword,
                description: "stage \(context.dockerfile.stages[index].displayName)")
        case .image(let reference):
            let image = try sourceImage(reference, keyword: keyword, at: location)
            let source = ImageState(layers: image.manifest.layers, diffIDs: image.config.rootfs.diffIDs, history: [], key: contentDigest)
            selection = try CopySelection(
                root: try flatten(source), ignore: DockerIgnore(), excludes: copy.excludes, location: location, keyword: keyword,
                description: "image \(reference)")
        }
        if !paths.isEmpty, let selection {
            items = try selection.items(
                sources: paths, destination: copy.destination, destinationIsDirectory: copy.destinationIsDirectory,
                keepingParents: copy.parents, isDirectoryInImage: view.isDirectory)
        }
        items = items.map { $0.placed(at: view.placement(of: $0.destination)) }

        // podman writes file: for a single named file and dir: for anything else.
        let singleFile = paths.count + heredocs.count + urls.count == 1 && items.count <= 1 && items.first?.kind != .directory
            && (items.first.map { ($0.sourcePath as NSString).lastPathComponent == (paths[0] as NSString).lastPathComponent } ?? true)
        let kind = singleFile ? "file" : "dir"
        let createdBy = HistoryText.copy(copy, kind: kind, content: contentDigest)
        try writeLayer(key: key, createdBy: createdBy, state: &state) { writer in
            var emitted = Set<String>()
            let parents = ParentDirectories(
                view: view, owner: owner, mtime: options.timestamp ?? Int64(Date().timeIntervalSince1970),
                workingDirectory: step.settings.workingDirectory ?? "/")

            for item in items {
                try parents.add(for: item.destination, to: writer, emitted: &emitted)
                if copy.isAdd, copy.unpack != false, case .regularFile = item.kind {
                    let descriptor = try RootedDirectory.openWithoutSymlinks(item.sourcePath)
                    defer { close(descriptor) }
                    // Reading through the descriptor's /proc link reopens the very file checked above.
                    let opened = "/proc/self/fd/\(descriptor)"
                    if let archive = try archiveFormat(opened) {
                        try addArchive(opened, name: item.sourcePath, format: archive, into: view.resolve(copy.destination), writer: writer)
                        continue
                    }
                }
                try add(item, mode: copy.chmod ?? item.mode, owner: owner ?? (0, 0), to: writer)
                emitted.insert(item.destination)
            }
            // Docker writes downloads with mode 0600 and never extracts them, archive or not.
            for url in urls {
                guard let download = downloads[url] else { continue }
                // As with local files, a destination that is a directory in the image takes the file inside it.
                let intoDirectory = copy.destinationIsDirectory || view.isDirectory(copy.destination)
                let destination = view.placement(
                    of: intoDirectory ? LexicalPath.resolve(URLDownload.fileName(of: url), against: copy.destination) : copy.destination)
                let item = CopyItem(
                    sourcePath: download.path, destination: destination, kind: .regularFile(size: download.size), mode: 0o600,
                    mtime: download.lastModified ?? options.timestamp ?? Int64(Date().timeIntervalSince1970))
                try parents.add(for: destination, to: writer, emitted: &emitted)
                try add(item, mode: copy.chmod ?? item.mode, owner: owner ?? (0, 0), to: writer)
                emitted.insert(destination)
            }
            for heredoc in heredocs {
                let destination = view.placement(
                    of: copy.destinationIsDirectory ? LexicalPath.resolve(heredoc.name, against: copy.destination) : copy.destination)
                try parents.add(for: destination, to: writer, emitted: &emitted)
                let bytes = Array(heredoc.content.utf8)
                let entry = LayerEntry(
                    path: Array(destination.dropFirst().utf8), kind: .regular(size: Int64(bytes.count)), mode: copy.chmod ?? 0o644,
                    uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtime: options.timestamp ?? Int64(Date().timeIntervalSince1970))
                try writer.add(entry) { write in try bytes.withUnsafeBytes { try write($0) } }
            }
        }
    }

    /// Returns the image a `--from` that names no stage refers to, for the build's platform.
    /// The error names the Dockerfile line and states that no stage has that name either.
    func sourceImage(_ reference: String, keyword: String, at location: SourceLocation) throws -> StoredImage {
        do {
            return try baseImage(reference, platform: buildOptions.platform, explicit: buildOptions.platformIsExplicit)
        } catch BuildError.imageUnavailable(let name, let reason) {
            throw BuildError.invalidInstruction(
                location, "\(keyword) --from=\(reference): no stage before this one is named \(name), and image \(name): \(reason)")
        }
    }

    /// Adds one selected item, reading a file's data in chunks.
    private func add(_ item: CopyItem, mode: UInt32, owner: (uid: UInt32, gid: UInt32), to writer: LayerWriter) throws {
        let kind: LayerEntry.Kind
        switch item.kind {
        case .directory: kind = .directory
        case .regularFile(let size): kind = .regular(size: size)
        case .symlink(let target): kind = .symlink(target: Array(target.utf8))
        }
        let entry = LayerEntry(
            path: Array(item.destination.dropFirst().utf8), kind: kind, mode: mode, uid: owner.uid, gid: owner.gid, mtime: item.mtime)
        guard case .regularFile = item.kind else {
            try writer.add(entry)
            return
        }
        try writer.add(entry) { write in
            // The selection resolved every symlink already; one found now was swapped in since, and is refused.
            let descriptor = try RootedDirectory.openWithoutSymlinks(item.sourcePath)
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try checkSyscall("read", path: item.sourcePath) { Glibc.read(descriptor, &buffer, buffer.count) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            }
        }
    }

    /// Applies a stage's or image's layers to a fresh directory, for COPY --from to read.
    func flatten(_ state: ImageState) throws -> String {
        let directory = try temporaryDirectory("copy-from")
        let layers = zip(state.layers, state.diffIDs).map { layer, diffID in
            (name: diffID.description, source: { () throws -> any ByteSource in try self.store.openBlob(layer) })
        }
        try LayerCache.flatten(layers, into: directory, log: log)
        return directory
    }

    /// Returns the compression of a local tar archive that ADD extracts, or nil for any other
    /// file. ADD recognizes archives by content, not by name, as the reference describes.
    func archiveFormat(_ path: String) throws -> String? {
        let source = try FileSource(path: path)
        var header = [UInt8](repeating: 0, count: 512)
        let count = try header.withUnsafeMutableBytes { try source.read(into: $0) }
        if count >= 2 && header[0] == 0x1f && header[1] == 0x8b { return "gzip" }
        if count >= 4 && header[0..<4] == [0x28, 0xb5, 0x2f, 0xfd] { return "zstd" }
        if count >= 262 && Array(header[257..<262]) == Array("ustar".utf8) { return "tar" }
        return nil
    }

    /// Extracts a tar archive into `destination` in the layer: unpacked into a staging
    /// directory that mirrors the destination path, then added as a tree.
    private func addArchive(_ path: String, name: String, format: String, into destination: String, writer: LayerWriter) throws {
        let staging = try temporaryDirectory("add-archive")
        let target = staging + (destination == "/" ? "" : destination)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let unpacker = try LayerUnpacker(root: target, options: .init(format: .flattened), log: log)
        _ = try unpacker.apply(try FileSource(path: path), name: name)
        try writer.addTree(at: staging)
    }
}

/// Emits the parent directories of copied paths: with the image's own metadata when the
/// image already has them, so a COPY does not change /usr's mode, else as 0755 directories
/// owned by the `--chown` owner. The working directory and its parents are owned by root,
/// as WORKDIR creates them.
struct ParentDirectories {
    let view: LayerStackView
    let owner: (uid: UInt32, gid: UInt32)?
    let mtime: Int64
    let workingDirectory: String

    func add(for path: String, to writer: LayerWriter, emitted: inout Set<String>) throws {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if emitted.contains(prefix) { continue }
            emitted.insert(prefix)
            let madeByWorkdir = workingDirectory == prefix || workingDirectory.hasPrefix(prefix + "/")
            let uid = madeByWorkdir ? 0 : owner?.uid ?? 0
            let gid = madeByWorkdir ? 0 : owner?.gid ?? 0
            var entry = LayerEntry(path: Array(prefix.dropFirst().utf8), kind: .directory, mode: 0o755, uid: uid, gid: gid, mtime: mtime)
            if let status = view.status(of: prefix) {
                guard status.st_mode & S_IFMT == S_IFDIR else { continue }
                entry.mode = UInt32(status.st_mode) & 0o7777
                entry.uid = status.st_uid
                entry.gid = status.st_gid
                entry.mtime = Int64(status.st_mtim.tv_sec)
            }
            try writer.add(entry)
        }
    }
}
