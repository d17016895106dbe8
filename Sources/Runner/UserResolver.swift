import CRunnerShim
import Foundation

/// Resolves `-u USER[:GROUP]` against the image's /etc/passwd and /etc/group, as Docker does:
/// names are looked up, numbers are taken as they are, and a user's supplementary groups are
/// the groups that list it.
public struct UserResolver: Sendable {
    public struct ResolvedUser: Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var supplementaryGroups: [UInt32]
        public var home: String
    }

    struct PasswdEntry {
        var name: String
        var uid: UInt32
        var gid: UInt32
        var home: String
    }

    struct GroupEntry {
        var name: String
        var gid: UInt32
        var members: [String]
    }

    let users: [PasswdEntry]
    let groups: [GroupEntry]
    public init(passwd: String, group: String) {
        users = passwd.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 7, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return PasswdEntry(name: String(fields[0]), uid: uid, gid: gid, home: String(fields[5]))
        }
        groups = group.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let gid = UInt32(fields[2]) else { return nil }
            let members = fields[3].split(separator: ",").map(String.init)
            return GroupEntry(name: String(fields[0]), gid: gid, members: members)
        }
    }

    /// Reads /etc/passwd and /etc/group from the first of `directories` (upper layers first)
    /// that has them, resolving symlinks inside each directory as the container would.
    public static func load(fromLayers directories: [String]) -> UserResolver {
        func read(_ path: String) -> String? {
            for directory in directories {
                let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard root >= 0 else { continue }
                defer { close(root) }
                let fd = crib_open_in_root(root, path, O_RDONLY)
                guard fd >= 0 else { continue }
                let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            }
            return nil
        }
        return UserResolver(
            passwd: read("/etc/passwd") ?? "", group: read("/etc/group") ?? "")
    }

    public func resolve(_ specification: String) throws -> ResolvedUser {
        let parts = specification.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let userPart = String(parts[0])
        let groupPart = parts.count > 1 ? String(parts[1]) : nil

        var resolved: ResolvedUser
        if let entry = users.first(where: { $0.name == userPart })
            ?? UInt32(userPart).flatMap({ id in users.first { $0.uid == id } })
        {
            let supplementary = groups.filter { $0.members.contains(entry.name) && $0.gid != entry.gid }.map(\.gid)
            resolved = ResolvedUser(
                uid: entry.uid, gid: entry.gid, supplementaryGroups: supplementary, home: entry.home)
        } else if let uid = UInt32(userPart) {
            resolved = ResolvedUser(uid: uid, gid: 0, supplementaryGroups: [], home: "/")
        } else {
            throw RunnerError.userNotFound(userPart)
        }

        if let groupPart, !groupPart.isEmpty {
            if let group = groups.first(where: { $0.name == groupPart }) {
                resolved.gid = group.gid
            } else if let gid = UInt32(groupPart) {
                resolved.gid = gid
            } else {
                throw RunnerError.groupNotFound(groupPart)
            }
            // An explicit group replaces the user's own groups, as in Docker.
            resolved.supplementaryGroups = []
        }
        return resolved
    }
}
