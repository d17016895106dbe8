/// Ownership and mode that an unprivileged unpack could not apply, kept in a `user.` xattr
/// on the file so that a layer made again from the directory carries the original values.
struct OwnershipRecord: Equatable {
    static let attributeName = "user.crib.ownership"

    var uid: UInt32
    var gid: UInt32
    /// Permission bits with setuid, setgid and sticky.
    var mode: UInt32

    /// The attribute value: `UID:GID:MODE`, the mode in octal.
    var encoded: [UInt8] { Array("\(uid):\(gid):\(String(mode, radix: 8))".utf8) }

    init(uid: UInt32, gid: UInt32, mode: UInt32) {
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }

    /// Parses an attribute value; nil when it is not in the form `encoded` writes.
    init?(encoded: [UInt8]) {
        let fields = String(decoding: encoded, as: UTF8.self).split(separator: ":")
        guard fields.count == 3, let uid = UInt32(fields[0]), let gid = UInt32(fields[1]),
            let mode = UInt32(fields[2], radix: 8), mode <= 0o7777
        else { return nil }
        self.init(uid: uid, gid: gid, mode: mode)
    }
}
