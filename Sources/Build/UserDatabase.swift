/// The users and groups of an image, read from its /etc/passwd and /etc/group, for
/// `COPY --chown` and `ADD --chown`.
public struct UserDatabase: Sendable {
    /// User names to uids.
    public let users: [String: UInt32]
    /// Group names to gids.
    public let groups: [String: UInt32]

    /// Parses the two files' text; nil means the image has no such file.
    public init(passwd: String?, group: String?) {
        users = Self.parse(passwd ?? "", idField: 2)
        groups = Self.parse(group ?? "", idField: 2)
    }

    /// Maps the first field of each `name:…` line to its numeric field `idField`, skipping
    /// comments and malformed lines as libc's getpwnam does.
    private static func parse(_ text: String, idField: Int) -> [String: UInt32] {
        var result = [String: UInt32]()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count > idField, !fields[0].isEmpty, let id = UInt32(fields[idField]) else { continue }
            if result[String(fields[0])] == nil { result[String(fields[0])] = id }
        }
        return result
    }

    /// Resolves `USER[:GROUP]`, names or ids. Without a group, the gid equals the uid, as the
    /// reference specifies for `--chown`, whether the user was given by name or by id.
    public func resolveOwner(_ spec: String, at location: SourceLocation, keyword: String) throws -> (uid: UInt32, gid: UInt32) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw BuildError.invalidInstruction(location, "invalid \(keyword) --chown=\(spec): expected USER[:GROUP]")
        }

        let uid: UInt32
        if let number = UInt32(parts[0]) {
            uid = number
        } else if let number = users[parts[0]] {
            uid = number
        } else {
            throw BuildError.invalidInstruction(location, "\(keyword) --chown=\(spec): user \(parts[0]) not found in the image's /etc/passwd")
        }
        guard parts.count == 2 else { return (uid, uid) }

        if let number = UInt32(parts[1]) { return (uid, number) }
        guard let gid = groups[parts[1]] else {
            throw BuildError.invalidInstruction(location, "\(keyword) --chown=\(spec): group \(parts[1]) not found in the image's /etc/group")
        }
        return (uid, gid)
    }
}
