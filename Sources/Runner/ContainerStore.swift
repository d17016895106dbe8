import Foundation
import OCI

/// The containers under `<root>/containers/`, one directory each, named by id.
public struct ContainerStore: Sendable {
    public let root: RootDirectory

    public init(root: RootDirectory) {
        self.root = root
    }

    public func directory(_ id: String) -> String { root.containers + "/" + id }

    /// Creates the directory and record of a new container; a name must be unused.
    ///
    /// - Parameter removeOnExit: whether this process removes the container when it ends, so
    ///   that a later crib removes it in its place if this one is killed first.
    public func create(name: String?, image: String, command: [String], removeOnExit: Bool = false) throws -> ContainerRecord {
        try FileManager.default.createDirectory(atPath: root.containers, withIntermediateDirectories: true)
        // A container that cannot be removed here stays for `crib ps` and `crib prune`, which
        // try again and report the error, so that it does not stop this one from starting.
        _ = try? removeAbandoned()
        var bytes = [UInt8](repeating: 0, count: 32)
        guard getentropy(&bytes, bytes.count) == 0 else { throw RunnerError.io(SystemError("getentropy")) }
        let id = bytes.map { String(format: "%02x", $0) }.joined()
        let chosen = name ?? "crib-" + id.prefix(12)
        if try list().contains(where: { $0.name == chosen }) { throw RunnerError.nameInUse(chosen) }

        let directory = directory(id)
        try checkSyscall("mkdir", path: directory) { mkdir(directory, 0o700) }
        let created = ISO8601DateFormatter().string(from: Date())
        var record = ContainerRecord(id: id, name: chosen, image: image, command: command, created: created)
        if removeOnExit { record.ownerPID = getpid() }
        try save(record)
        return record
    }

    /// Removes the containers whose owning crib process is gone before it could remove them,
    /// with their upper directories (a checkpoint's CRIU images among them), and returns them.
    @discardableResult
    public func removeAbandoned() throws -> [ContainerRecord] {
        let abandoned = try list().filter(\.isAbandoned)
        for record in abandoned {
            try remove(record, force: false)
        }
        return abandoned
    }

    public func save(_ record: ContainerRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(record)
        let path = directory(record.id) + "/container.json"
        let temporary = path + ".tmp"
        // Written beside the record and renamed over it, so a reader never sees half a file.
        try FileWriting.write(data, to: temporary)
        try checkSyscall("rename", path: path) { rename(temporary, path) }
        DurableStep.completed("replacement of \(path)")
    }

    public func list() throws -> [ContainerRecord] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.containers) else { return [] }
        return names.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory(name) + "/container.json") else {
                return nil
            }
            return try? JSONDecoder().decode(ContainerRecord.self, from: data)
        }
    }

    /// Returns the containers made from the image with this manifest digest, running or not.
    public func containers(using digest: Digest) throws -> [ContainerRecord] {
        try list().filter { $0.imageDigest == digest }
    }

    /// Finds a container by name, full id or unique id prefix.
    public func find(_ text: String) throws -> ContainerRecord {
        let all = try list()
        if let byName = all.first(where: { $0.name == text }) { return byName }
        let matches = all.filter { $0.id.hasPrefix(text) }
        guard matches.count == 1, !text.isEmpty else { throw RunnerError.containerNotFound(text) }
        return matches[0]
    }

    /// Removes a container's directory; a running one only with `force`, which kills it first.
    public func remove(_ record: ContainerRecord, force: Bool) throws {
        if record.isRunning {
            guard force else { throw RunnerError.containerRunning(record.name) }
            // The shim's init dies with the relay (PR_SET_PDEATHSIG), and crib run then exits.
            if let relay = record.relayPID { kill(relay, SIGKILL) }
            for _ in 0..<100 where record.isRunning { usleep(20_000) }
        }
        do {
            try Container.removeDirectory(directory(record.id))
        } catch let error as RunnerError {
            throw error
        } catch {
            throw RunnerError.removeFailed(path: directory(record.id), reason: error.localizedDescription)
        }
    }
}
