import CRunnerShim
import Foundation
import OCI

extension Container {
    /// Deletes a container's directory. Without root and with a subordinate id range, files
    /// the container's other users wrote belong to ids crib cannot touch from outside, so the
    /// shim deletes them from inside a user namespace with the same maps.
    static func removeDirectory(_ path: String, executable: String = "/proc/self/exe") throws {
        let maps = isRootless ? UserNamespaceMaps.forCurrentUser() : nil
        guard let maps, maps.usesHelpers else {
            try FileTree.remove(path)
            return
        }
        // Most containers write nothing as another user; the shim costs two helper runs.
        if (try? FileTree.remove(path)) != nil { return }

        var config = ShimConfig()
        config.append(.setgroups, number: 1)
        config.append(.userNamespace, number: 1)
        config.append(.remove, string: path)
        config.finish()

        // The spec only names the process in messages.
        let spec = ContainerSpec(rootfs: .directory(path), arguments: ["remove"], environment: [], stateDirectory: path)
        let shim = Container(spec: spec, executable: executable)
        try shim.runToCompletion(config: config, maps: maps, stage: "remove")
    }

    /// Gives the tree at `path` to `uid` and `gid` of a rootless container's user namespace.
    /// crib's own user can give files only to itself, so the shim changes the owner from inside
    /// a user namespace with the container's maps.
    static func changeOwnerWithoutRoot(of path: String, uid: UInt32, gid: UInt32, executable: String = "/proc/self/exe") throws {
        let maps = UserNamespaceMaps.forCurrentUser()
        guard maps.usesHelpers else {
            // Without a subordinate range, only root exists in the container, and root is crib's own user.
            guard uid == 0 && gid == 0 else {
                throw RunnerError.rootlessUnsupported(
                    feature: "files owned by uid \(uid) gid \(gid)",
                    reason: "without a range for this user in /etc/subuid and /etc/subgid only root exists in the container")
            }
            return
        }
        var ids = ShimConfig.encode(uid)
        ids.append(ShimConfig.encode(gid))
        ids.append(Data(path.utf8))
        var config = ShimConfig()
        config.append(.setgroups, number: 1)
        config.append(.userNamespace, number: 1)
        config.append(.chown, ids)
        config.finish()

        let spec = ContainerSpec(rootfs: .directory(path), arguments: ["chown"], environment: [], stateDirectory: path)
        let shim = Container(spec: spec, executable: executable)
        try shim.runToCompletion(config: config, maps: maps, stage: "chown")
    }

    /// Runs a shim that does one job in a fresh user namespace and exits.
    private func runToCompletion(config: ShimConfig, maps: UserNamespaceMaps, stage: String) throws {
        var configPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        var syncPair: [Int32] = [-1, -1]
        try checkSyscall("pipe") { crib_pipe_cloexec(&configPipe) }
        try checkSyscall("pipe") { crib_pipe_cloexec(&errorPipe) }
        try checkSyscall("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &syncPair)
        }
        let pid = try spawnShim(config: configPipe[0], sync: syncPair[1], error: errorPipe[1])
        close(configPipe[0])
        close(errorPipe[1])
        close(syncPair[1])
        defer {
            close(errorPipe[0])
            close(syncPair[0])
        }

        var failure: (any Error)?
        do {
            try writeAll(config.bytes, to: configPipe[1])
            close(configPipe[1])
            var byte = [UInt8](repeating: 0, count: 1)
            try readExactly(&byte, from: syncPair[0])
            try maps.apply(to: pid)
            try writeAll(Data([UInt8(ascii: "M")]), to: syncPair[0])
        } catch {
            close(configPipe[1])
            failure = error
            kill(pid, SIGKILL)
        }

        let report = readErrorRecord(errorPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let report { throw report }
        if let failure { throw failure }
        if status != 0 {
            throw RunnerError.setupFailed(stage: stage, message: "the shim exited with status \(status >> 8)")
        }
    }
}
