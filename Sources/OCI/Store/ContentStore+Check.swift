import Foundation

extension ContentStore {
    /// Hashes every blob, follows every reference in index.json, and looks for files that do
    /// not belong. With `repair`, removes what cannot be trusted and nothing else.
    ///
    /// A repair deletes corrupt blobs and stray files. It drops the index entries of images
    /// whose blobs are missing, corrupt or of the wrong size. Sound blobs are not rewritten, and
    /// index.json is replaced only when an entry is removed. tmp/ is not checked here, because
    /// opening the store already emptied it unless another crib process is using it, and then
    /// its files are work in progress.
    public func check(repair: Bool) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        let blobs = try checkBlobFiles(repair: repair, into: &report)
        try checkImages(blobs: blobs, repair: repair, into: &report)
        return report
    }

    /// The state of a blob file when it was hashed.
    private enum BlobState {
        case sound(size: Int64)
        case corrupt(actual: Digest)
    }

    private func checkBlobFiles(repair: Bool, into report: inout StoreCheckReport) throws -> [Digest: BlobState] {
        let blobsDirectory = root.store + "/blobs"
        for name in try FileManager.default.contentsOfDirectory(atPath: blobsDirectory).sorted() where name != "sha256" {
            try reportStray(blobsDirectory + "/" + name, detail: "not a digest algorithm directory", repair: repair, into: &report)
        }
        let directory = blobsDirectory + "/sha256"
        var states = [Digest: BlobState]()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let path = directory + "/" + name
            var status = stat()
            try checkSyscall("stat", path: path) { lstat(path, &status) }
            guard let digest = try? Digest(parsing: "sha256:" + name) else {
                try reportStray(path, detail: "name is not a sha256 digest", repair: repair, into: &report)
                continue
            }
            guard status.st_mode & S_IFMT == S_IFREG else {
                try reportStray(path, detail: "not a regular file", repair: repair, into: &report)
                continue
            }
            let (actual, size) = try hashFile(path)
            report.checkedBlobs += 1
            report.checkedBytes += size
            if actual == digest {
                states[digest] = .sound(size: size)
                continue
            }
            states[digest] = .corrupt(actual: actual)
            if repair { try checkSyscall("remove blob", path: path) { unlink(path) } }
            report.problems.append(.init(kind: .corruptBlob, object: digest.description, detail: "content hashes to \(actual)", removed: repair))
        }
        return states
    }

    private func reportStray(_ path: String, detail: String, repair: Bool, into report: inout StoreCheckReport) throws {
        if repair { try FileTree.remove(path) }
        report.problems.append(.init(kind: .strayFile, object: path, detail: detail, removed: repair))
    }

    /// Streams a file through SHA-256 and returns its digest and size.
    private func hashFile(_ path: String) throws -> (Digest, Int64) {
        let source = try FileSource(path: path)
        var hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        return (hasher.finalize(), hasher.count)
    }

    private func checkImages(blobs: [Digest: BlobState], repair: Bool, into report: inout StoreCheckReport) throws {
        let index: Index
        do {
            index = try readIndex()
        } catch {
            // Without an index, no blob or layer is known to be in use, so nothing more is checked.
            report.indexIsReadable = false
            report.problems.append(.init(kind: .unreadableIndex, object: indexPath, detail: "\(error)"))
            return
        }
        var order = [Digest]()
        var names = [Digest: [String]]()
        var entries = [Digest: Descriptor]()
        for entry in index.manifests {
            if entries[entry.digest] == nil {
                order.append(entry.digest)
                entries[entry.digest] = entry
            }
            if let name = entry.annotations?[AnnotationKey.refName] { names[entry.digest, default: []].append(name) }
        }
        report.checkedImages = order.count

        var blobs = blobs
        var damaged = [Digest: String]()
        for digest in order {
            var diffIDs = Set<Digest>()
            if let reason = damage(of: entries[digest]!, role: "manifest", blobs: &blobs, diffIDs: &diffIDs) {
                damaged[digest] = reason
            } else {
                report.referencedDiffIDs.formUnion(diffIDs)
            }
        }
        if repair && !damaged.isEmpty {
            try withIndexLock {
                var current = try readIndex()
                current.manifests.removeAll { damaged[$0.digest] != nil }
                try writeIndex(current)
            }
        }
        for digest in order {
            guard let reason = damaged[digest] else { continue }
            let name = names[digest]?.joined(separator: ", ") ?? digest.description
            report.problems.append(.init(kind: .damagedImage, object: name, detail: reason, removed: repair))
        }
    }

    /// Returns why the blobs behind `descriptor` cannot be trusted, or nil when all of them are sound.
    private func damage(of descriptor: Descriptor, role: String, blobs: inout [Digest: BlobState], diffIDs: inout Set<Digest>) -> String? {
        // A pull or build running beside the check may have stored the blob after the listing.
        if blobs[descriptor.digest] == nil, descriptor.digest.algorithm == .sha256, hasBlob(descriptor.digest),
            let (actual, size) = try? hashFile(blobPath(descriptor.digest))
        {
            blobs[descriptor.digest] = actual == descriptor.digest ? .sound(size: size) : .corrupt(actual: actual)
        }
        switch blobs[descriptor.digest] {
        case nil:
            return "\(role) \(descriptor.digest) is missing"
        case .corrupt?:
            return "\(role) \(descriptor.digest) is corrupt"
        case .sound(let size)? where size != descriptor.size:
            return "\(role) \(descriptor.digest) is \(size) bytes, its descriptor says \(descriptor.size)"
        case .sound?:
            break
        }
        do {
            if descriptor.mediaType.isManifest {
                let manifest = try readJSON(Manifest.self, descriptor)
                if let reason = damage(of: manifest.config, role: "config", blobs: &blobs, diffIDs: &diffIDs) { return reason }
                for layer in manifest.layers {
                    if let reason = damage(of: layer, role: "layer", blobs: &blobs, diffIDs: &diffIDs) { return reason }
                }
                let config = try readJSON(ImageConfig.self, manifest.config)
                diffIDs.formUnion(config.rootfs.diffIDs)
            } else if descriptor.mediaType.isIndex {
                for child in try readJSON(Index.self, descriptor).manifests {
                    if let reason = damage(of: child, role: "manifest", blobs: &blobs, diffIDs: &diffIDs) { return reason }
                }
            }
        } catch {
            return "\(error)"
        }
        return nil
    }
}
