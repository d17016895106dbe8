/// The `security.capability` extended attribute (`struct vfs_cap_data` in linux/capability.h).
enum FileCapability {
    static let attributeName = "security.capability"

    private static let revisionMask: UInt32 = 0xFF00_0000
    private static let revision2: UInt32 = 0x0200_0000
    private static let revision3: UInt32 = 0x0300_0000
    private static let effectiveFlag: UInt32 = 0x0000_0001

    /// Returns the capability in the revision 2 form that every host can apply.
    ///
    /// A capability set inside a user namespace is stored as revision 3, which adds the
    /// namespace's root uid, and the kernel then honours it only in that namespace. Layers
    /// carry the revision 2 form, which the kernel turns back into revision 3 when a process
    /// in a user namespace writes it. Other values are returned unchanged.
    static func portable(_ value: [UInt8]) -> [UInt8] {
        guard value.count == 24 else { return value }
        let magic = UInt32(value[0]) | UInt32(value[1]) << 8 | UInt32(value[2]) << 16 | UInt32(value[3]) << 24
        guard magic & revisionMask == revision3 else { return value }
        let converted = revision2 | (magic & effectiveFlag)
        let header: [UInt8] = [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: converted >> $0) }
        // Permitted and inheritable for both 32-bit halves; the root uid is dropped.
        return header + value[4..<20]
    }
}
