import CRunnerShim
import Foundation
import OCI

/// The uid and gid maps of a rootless container's user namespace.
///
/// The invoking user is always root in the container. With a range in /etc/subuid and
/// /etc/subgid and newuidmap/newgidmap installed, ids 1 and up map to that range, so the
/// image's other users exist. Otherwise only root does, and setgroups is denied because the
/// kernel requires that for a map written without privilege.
struct UserNamespaceMaps {
    struct Range: Equatable {
        var containerID: UInt32
        var hostID: UInt32
        var count: UInt32
    }

    var uidRanges: [Range]
    var gidRanges: [Range]

    var usesHelpers: Bool { uidRanges.count > 1 || gidRanges.count > 1 }
    /// Whether the container may call setgroups.
    var allowsSetgroups: Bool { usesHelpers }
    var ttyGroupMapped: Bool { gidRanges.contains { $0.containerID <= 5 && 5 < $0.containerID + $0.count } }

    static func forCurrentUser(subuid: String = "/etc/subuid", subgid: String = "/etc/subgid") -> UserNamespaceMaps {
        let uid = geteuid()
        let gid = getegid()
        let name = getpwuid(uid).flatMap { String(cString: $0.pointee.pw_name) } ?? "\(uid)"
        var maps = UserNamespaceMaps(
            uidRanges: [Range(containerID: 0, hostID: uid, count: 1)],
            gidRanges: [Range(containerID: 0, hostID: gid, count: 1)])
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/newuidmap"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/newgidmap"),
            let uidRange = subordinateRange(file: subuid, user: name, id: uid),
            let gidRange = subordinateRange(file: subgid, user: name, id: uid)
        else { return maps }
        maps.uidRanges.append(Range(containerID: 1, hostID: uidRange.start, count: uidRange.count))
        maps.gidRanges.append(Range(containerID: 1, hostID: gidRange.start, count: gidRange.count))
        return maps
    }

    /// Returns the host ids that a container's uid and gid stand for, or nil when the maps
    /// leave one of them out.
    func hostIDs(uid: UInt32, gid: UInt32) -> (uid: UInt32, gid: UInt32)? {
        func translate(_ id: UInt32, _ ranges: [Range]) -> UInt32? {
            ranges.first { $0.containerID <= id && id - $0.containerID < $0.count }.map { $0.hostID + (id - $0.containerID) }
        }
        guard let hostUID = translate(uid, uidRanges), let hostGID = translate(gid, gidRanges) else { return nil }
        return (hostUID, hostGID)
    }

    /// Returns the range of the first `user:start:count` line for the user's name or uid.
    static func subordinateRange(file: String, user: String, id: UInt32) -> (start: UInt32, count: UInt32)? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":")
            guard fields.count == 3, fields[0] == user || fields[0] == "\(id)",
                let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0
            else { continue }
            return (start, count)
        }
        return nil
    }

    /// Writes the maps for the process `pid`, which has just created its user namespace.
    func apply(to pid: pid_t) throws {
        if usesHelpers {
            try runHelper("/usr/bin/newuidmap", pid: pid, ranges: uidRanges)
            try runHelper("/usr/bin/newgidmap", pid: pid, ranges: gidRanges)
            return
        }
        try write("deny", to: "/proc/\(pid)/setgroups")
        try write(Self.text(uidRanges), to: "/proc/\(pid)/uid_map")
        try write(Self.text(gidRanges), to: "/proc/\(pid)/gid_map")
    }

    static func text(_ ranges: [Range]) -> String {
        ranges.map { "\($0.containerID) \($0.hostID) \($0.count)\n" }.joined()
    }

    private func write(_ text: String, to path: String) throws {
        let fd = try checkSyscall("open", path: path) { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { throw RunnerError.io(SystemError("write", path: path)) }
    }

    /// Runs newuidmap or newgidmap. posix_spawn and waitpid directly: Foundation's Process
    /// takes tens of milliseconds to notice the exit, on every container start.
    private func runHelper(_ tool: String, pid: pid_t, ranges: [Range]) throws {
        let arguments = [tool, "\(pid)"] + ranges.flatMap { ["\($0.containerID)", "\($0.hostID)", "\($0.count)"] }
        var errors: [Int32] = [-1, -1]
        try checkSyscall("pipe") { crib_pipe_cloexec(&errors) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var child: pid_t = 0
        let result = posix_spawn(&child, tool, &actions, nil, argv, environ)
        close(errors[1])
        defer { close(errors[0]) }
        if result != 0 { throw RunnerError.io(SystemError("run", path: tool, errno: result)) }

        let output = FileHandle(fileDescriptor: errors[0], closeOnDealloc: false).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let message = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RunnerError.setupFailed(
                stage: "userns", message: "\(tool) exited with status \(status >> 8): \(message)")
        }
    }
}
