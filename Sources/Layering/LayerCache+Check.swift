import Foundation
import OCI

extension LayerCache {
    /// Finds unpacked layers no image uses and entries under `layers/` that `unpack` never
    /// leaves there; with `repair`, removes both.
    ///
    /// `unpack` renames a layer into place only once it is complete, so a directory named by a
    /// diffID is whole. Anything else there (a file, a symlink, another name) is not a layer.
    /// Removal waits for nothing: when another crib process holds `store` it may be about to
    /// use a layer its image does not reference yet, so nothing is removed and nothing reported.
    ///
    /// NOTE: the files inside an unpacked layer are not compared with its diffID; that would
    /// mean packing every layer again.
    public func check(referencedDiffIDs: Set<Digest>, store: ContentStore, repair: Bool) throws -> [StoreCheckReport.Problem] {
        var status = stat()
        guard lstat(root.layers, &status) == 0 else { return [] }
        let problems = try store.withExclusiveUsage(wait: false) { () -> [StoreCheckReport.Problem] in
            var found = [StoreCheckReport.Problem]()
            for name in try FileManager.default.contentsOfDirectory(atPath: root.layers).sorted() {
                let path = root.layers + "/" + name
                var entry = stat()
                try checkSyscall("stat", path: path) { lstat(path, &entry) }
                let isDirectory = entry.st_mode & S_IFMT == S_IFDIR
                let problem: StoreCheckReport.Problem
                if let diffID = try? Digest(parsing: name), diffID.algorithm == .sha256, isDirectory {
                    guard !referencedDiffIDs.contains(diffID) else { continue }
                    problem = .init(kind: .unusedLayer, object: diffID.description, detail: "no image references \(path)", removed: repair)
                } else {
                    let reason = isDirectory ? "name is not a layer diffID" : "not a directory"
                    problem = .init(kind: .strayLayer, object: path, detail: reason, removed: repair)
                }
                if repair {
                    if isDirectory { try removeFromCache(path) } else { try checkSyscall("remove", path: path) { unlink(path) } }
                }
                found.append(problem)
            }
            return found
        }
        return problems ?? []
    }

    /// Removes the unpacked layers whose diffIDs are not in `used`, and returns their diffIDs.
    ///
    /// Callers run it inside `ContentStore.withExclusiveUsage`, because a running build or
    /// pull may be about to use a layer that no image references yet.
    public func removeUnused(keeping used: Set<Digest>) throws -> [Digest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.layers)) ?? []
        var removed = [Digest]()
        for name in names.sorted() {
            guard let diffID = try? Digest(parsing: name), diffID.algorithm == .sha256, !used.contains(diffID) else { continue }
            let path = directory(for: diffID)
            var entry = stat()
            guard lstat(path, &entry) == 0, entry.st_mode & S_IFMT == S_IFDIR else { continue }
            try removeFromCache(path)
            removed.append(diffID)
        }
        return removed
    }

    /// Moves a directory out of `layers/` into tmp/ in one rename, then deletes it there.
    ///
    /// A process killed while deleting leaves part of a tree in tmp/, which the next open of
    /// the store removes. Deleting in place would leave a partial layer under its diffID, which
    /// the next container would mount as if it were whole.
    private func removeFromCache(_ path: String) throws {
        let doomed = root.tmp + "/removed-layer-" + UUID().uuidString
        try checkSyscall("rename", path: path) { rename(path, doomed) }
        DurableStep.completed("rename of \(path) out of the layer cache")
        try Self.removeDirectory(doomed)
    }
}
