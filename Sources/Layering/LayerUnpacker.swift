import CArchive
import Foundation
import OCI

/// Applies layers to a directory: OCI whiteouts, hardlinks, xattrs and ownership, with every
/// path resolved inside the directory by `RootedDirectory`.
public final class LayerUnpacker {
    /// The form whiteouts take in the directory.
    public enum Format: Sendable, Equatable {
        /// Whiteouts delete what the layers below put there: the directory is the final tree.
        case flattened
        /// Whiteouts become overlayfs's own form, for an overlay lower directory: 0/0
        /// character devices and `<prefix>opaque` = `y` on opaque directories. The prefix is
        /// `trusted.overlay.` for a root mount and `user.overlay.` for a `userxattr` mount.
        case overlay(xattrPrefix: String)
    }

    /// The treatment of each entry's owner and group.
    public enum Ownership: Sendable, Equatable {
        /// chown to the entry's uid and gid (needs CAP_CHOWN).
        case apply
        /// Leave files owned by the unpacking user and keep the entry's uid, gid and mode in
        /// the `user.crib.ownership` xattr where they differ, so that a layer made from the
        /// directory again carries the originals.
        case record
    }

    public struct Options: Sendable {
        public var format: Format
        public var ownership: Ownership

        /// Ownership defaults to `.apply` for root and `.record` for other users.
        public init(format: Format = .flattened, ownership: Ownership? = nil) {
            self.format = format
            self.ownership = ownership ?? (geteuid() == 0 ? .apply : .record)
        }
    }

    /// The outcome of applying one layer.
    public struct Report: Sendable {
        public var diffID: Digest
        public var compression: LayerCompression
        public var entries: Int
        /// Device nodes the unpacking user may not create, by path in the layer.
        public var skippedDevices: [String]
        /// Xattrs, ownership or modes that could not be applied, one line each.
        public var warnings: [String]
    }

    private struct DeferredDirectory {
        var components: [[UInt8]]
        var mode: UInt32
        var mtime: Int64
    }

    public let options: Options
    private let root: RootedDirectory
    private let log: any LogSink
    private var cachedParent: (components: [[UInt8]], descriptor: Int32)?
    private var parentIsStale = false
    /// Paths this layer created; whiteouts in the same layer must not delete them.
    private var created = Set<[UInt8]>()
    private var deferred = [DeferredDirectory]()
    private var report = Report(diffID: Digest.sha256([UInt8]()), compression: .none, entries: 0, skippedDevices: [], warnings: [])
    private let userID = geteuid()
    private let groupID = getegid()

    public init(root path: String, options: Options = Options(), log: any LogSink = SilentLog()) throws {
        self.options = options
        self.log = log
        root = try RootedDirectory(path: path)
    }

    deinit { dropCachedParent() }

    /// Applies the layer in `source` (gzip, zstd or plain tar, recognised by its magic bytes).
    ///
    /// - Parameters:
    ///   - name: the layer in messages, such as its digest.
    ///   - expectedDiffID: when given, a layer whose tar stream hashes differently is an error.
    ///     Its entries are already applied then, so callers unpack into a staging directory.
    public func apply(_ source: ByteSource, name: String, expectedDiffID: Digest? = nil) throws -> Report {
        let stream = DecompressingSource(source: source)
        // Decompression and hashing run on their own thread, ahead of the file writes.
        let readAhead = ReadAheadSource(source: stream)
        let reader = try ArchiveReader(source: readAhead, name: name)
        report = Report(diffID: Digest.sha256([UInt8]()), compression: .none, entries: 0, skippedDevices: [], warnings: [])
        created.removeAll()
        deferred.removeAll()
        defer { dropCachedParent() }

        while let entry = try reader.nextEntry() {
            report.entries += 1
            try applyEntry(entry, reader: reader)
        }
        if reader.endedWithoutMarker {
            report.warnings.append("layer \(name) ends without the tar end-of-archive marker")
        }
        // The end-of-archive marker may be followed by padding the tar reader never asked for;
        // the diffID covers the whole stream.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { scratch.deallocate() }
        while try readAhead.read(into: scratch) > 0 {}
        try finishDirectories()

        report.diffID = stream.diffID()
        report.compression = stream.compression
        if let expectedDiffID, expectedDiffID != report.diffID {
            throw LayeringError.diffIDMismatch(object: "layer \(name)", expected: expectedDiffID, actual: report.diffID)
        }
        return report
    }

    // MARK: - Entries

    private func applyEntry(_ entry: LayerEntry, reader: ArchiveReader) throws {
        defer {
            if parentIsStale { dropCachedParent() }
        }
        let display = entry.displayPath
        let components = try RootedDirectory.components(of: entry.path, entry: display)
        guard let name = components.last else {
            if case .directory = entry.kind { try applyRootDirectory(entry) }
            return
        }
        let parentComponents = Array(components.dropLast())

        if name.starts(with: Whiteout.prefix) {
            return try applyWhiteout(name: name, in: parentComponents, entry: display)
        }
        let parent = try parentDescriptor(parentComponents, entry: display)

        var existing = stat()
        let exists = TreeWalker.withPath(name) { fstatat(parent, $0, &existing, AT_SYMLINK_NOFOLLOW) } == 0
        // An existing directory stays, with its contents, when the entry is a directory too;
        // anything else at the name goes.
        var keepsDirectory = false
        if exists {
            if case .directory = entry.kind, existing.st_mode & S_IFMT == S_IFDIR {
                keepsDirectory = true
            } else {
                try removeTree(parent: parent, name: name, entry: display)
            }
        }
        created.insert(RootedDirectory.join(components))

        switch entry.kind {
        case .regular:
            try createRegular(entry, parent: parent, name: name, reader: reader)
        case .directory:
            try createDirectory(entry, parent: parent, name: name, components: components, reuse: keepsDirectory)
        case .symlink(let target):
            try check("create symlink", entry) {
                TreeWalker.withPath(target) { target in TreeWalker.withPath(name) { symlinkat(target, parent, $0) } }
            }
            try applyOwnership(entry, parent: parent, name: name, descriptor: nil)
            try setTimes(entry, parent: parent, name: name)
            // A new symlink changes how later paths resolve; the kernel resolves them again.
            parentIsStale = true
        case .hardlink(let target):
            try createHardlink(entry, target: target, parent: parent, name: name)
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            let type: mode_t = entry.kind == .characterDevice(major: major, minor: minor) ? 0o020000 : 0o060000
            let mknodStatus = TreeWalker.withPath(name) { mknodat(parent, $0, type | mode_t(entry.mode & 0o777), crib_makedev(major, minor)) }
            if mknodStatus != 0 {
                guard errno == EPERM else { throw LayeringError.io(SystemError("create device node", path: display), entry: display) }
                report.skippedDevices.append(display)
                log.log(.warning, "skipped device node \(display) (\(major):\(minor)): creating device nodes needs CAP_MKNOD")
                created.remove(RootedDirectory.join(components))
                return
            }
            try finishSpecial(entry, parent: parent, name: name)
        case .fifo:
            try check("create fifo", entry) { TreeWalker.withPath(name) { mkfifoat(parent, $0, mode_t(entry.mode & 0o777)) } }
            try finishSpecial(entry, parent: parent, name: name)
        }
    }

    private func createRegular(_ entry: LayerEntry, parent: Int32, name: [UInt8], reader: ArchiveReader) throws {
        let display = entry.displayPath
        // O_EXCL and O_NOFOLLOW: the name was just removed, so anything there now is a race
        // and must not be followed or reused.
        let descriptor = try check("create", entry) {
            TreeWalker.withPath(name) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        }
        defer { close(descriptor) }
        var end: Int64 = 0
        try reader.readData { block, offset in
            var written = 0
            while written < block.count {
                let count = pwrite(descriptor, block.baseAddress! + written, block.count - written, off_t(offset) + off_t(written))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw LayeringError.io(SystemError("write", path: display), entry: display) }
                written += count
            }
            end = max(end, offset + Int64(block.count))
        }
        // A sparse entry may end in a hole that no data block covers.
        if case .regular(let size) = entry.kind, size > end {
            try check("truncate", entry) { ftruncate(descriptor, off_t(size)) }
        }
        try applyOwnership(entry, parent: parent, name: name, descriptor: descriptor)
        try check("chmod", entry) { fchmod(descriptor, mode_t(entry.mode)) }
        // After chown, which clears security.capability.
        try applyExtendedAttributes(entry, descriptor: descriptor)
        var times = timespecs(entry.mtime)
        try check("set times of", entry) { futimens(descriptor, &times) }
    }

    private func createDirectory(_ entry: LayerEntry, parent: Int32, name: [UInt8], components: [[UInt8]], reuse: Bool) throws {
        if !reuse {
            try check("create directory", entry) { TreeWalker.withPath(name) { mkdirat(parent, $0, 0o755) } }
        }
        let descriptor = try check("open directory", entry) {
            TreeWalker.withPath(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        defer { close(descriptor) }
        try applyOwnership(entry, parent: parent, name: name, descriptor: descriptor)
        try applyExtendedAttributes(entry, descriptor: descriptor)
        // Mode and times last: a read-only directory must still take its children, and
        // each child changes the directory's mtime.
        deferred.append(DeferredDirectory(components: components, mode: entry.mode, mtime: entry.mtime))
    }

    /// Gives the target directory the owner, xattrs, mode and mtime of the layer's `./` entry,
    /// as the root of a root file system needs them.
    private func applyRootDirectory(_ entry: LayerEntry) throws {
        let descriptor = try check("open directory", entry) { openat(root.descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(descriptor) }
        if options.ownership == .apply && fchown(descriptor, entry.uid, entry.gid) == 0 {
            // Applied.
        } else if options.ownership == .record || errno == EPERM || errno == EINVAL {
            if entry.uid != userID || entry.gid != groupID { try recordOwnership(entry, descriptor: descriptor) }
        } else {
            throw LayeringError.io(SystemError("chown", path: root.path), entry: entry.displayPath)
        }
        try applyExtendedAttributes(entry, descriptor: descriptor)
        deferred.append(DeferredDirectory(components: [], mode: entry.mode, mtime: entry.mtime))
    }

    private func createHardlink(_ entry: LayerEntry, target: [UInt8], parent: Int32, name: [UInt8]) throws {
        let display = entry.displayPath
        let targetComponents = try RootedDirectory.components(of: target, entry: display)
        guard let targetName = targetComponents.last else {
            throw LayeringError.invalidEntry(entry: display, reason: "hardlink to the layer root")
        }
        let targetParent: Int32
        do {
            targetParent = try root.openDirectory(Array(targetComponents.dropLast()), create: false)
        } catch let error as SystemError {
            throw LayeringError.invalidEntry(entry: display, reason: "hardlink target \(TreeWalker.display(target)) not found (\(error))")
        }
        defer { close(targetParent) }
        // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never the file it points to.
        let linked = TreeWalker.withPath(targetName) { source in TreeWalker.withPath(name) { linkat(targetParent, source, parent, $0, 0) } }
        guard linked == 0 else {
            let error = SystemError("link to \(TreeWalker.display(target)) from", path: display)
            throw LayeringError.io(error, entry: display)
        }
    }

    private func finishSpecial(_ entry: LayerEntry, parent: Int32, name: [UInt8]) throws {
        try applyOwnership(entry, parent: parent, name: name, descriptor: nil)
        // The node was just created by mknodat or mkfifoat, so it is not a symlink to follow.
        try check("chmod", entry) { TreeWalker.withPath(name) { fchmodat(parent, $0, mode_t(entry.mode), 0) } }
        try setTimes(entry, parent: parent, name: name)
    }

    // MARK: - Whiteouts

    private func applyWhiteout(name: [UInt8], in directory: [[UInt8]], entry: String) throws {
        if name == Whiteout.opaque {
            let descriptor = try openReadableDirectory(directory, entry: entry)
            defer { close(descriptor) }
            switch options.format {
            case .overlay(let prefix):
                let value: [UInt8] = [0x79]  // "y"
                let status = value.withUnsafeBytes { fsetxattr(descriptor, prefix + "opaque", $0.baseAddress, 1, 0) }
                guard status == 0 else { throw LayeringError.io(SystemError("set \(prefix)opaque on", path: entry), entry: entry) }
            case .flattened:
                let prefix = directory.isEmpty ? [] : RootedDirectory.join(directory) + [0x2f]
                for child in try names(in: descriptor, entry: entry) where !created.contains(prefix + child) {
                    try removeTree(parent: descriptor, name: child, entry: entry)
                }
            }
            return
        }

        let target = Array(name.dropFirst(Whiteout.prefix.count))
        guard !target.isEmpty, target != [0x2e], target != [0x2e, 0x2e], !target.starts(with: Whiteout.prefix) else {
            throw LayeringError.invalidEntry(entry: entry, reason: "whiteout names no file")
        }
        let parent = try parentDescriptor(directory, entry: entry)
        var existing = stat()
        let exists = TreeWalker.withPath(target) { fstatat(parent, $0, &existing, AT_SYMLINK_NOFOLLOW) } == 0
        switch options.format {
        case .overlay:
            // A file of the same layer stays; the whiteout is for the layers below only.
            guard !exists else { return }
            try check("create whiteout", entry) { TreeWalker.withPath(target) { mknodat(parent, $0, 0o020000, 0) } }
        case .flattened:
            let path = (directory.isEmpty ? [] : RootedDirectory.join(directory) + [0x2f]) + target
            guard exists, !created.contains(path) else { return }
            try removeTree(parent: parent, name: target, entry: entry)
        }
    }

    // MARK: - Metadata

    private func applyOwnership(_ entry: LayerEntry, parent: Int32, name: [UInt8], descriptor: Int32?) throws {
        switch options.ownership {
        case .apply:
            let status = TreeWalker.withPath(name) { fchownat(parent, $0, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
            guard status != 0 else { return }
            // EPERM without CAP_CHOWN, EINVAL for an id the user namespace does not map: such an
            // unpack keeps the ownership as an unprivileged one does.
            guard errno == EPERM || errno == EINVAL else {
                throw LayeringError.io(SystemError("chown", path: entry.displayPath), entry: entry.displayPath)
            }
            try recordOwnership(entry, descriptor: descriptor)
        case .record:
            guard entry.uid != userID || entry.gid != groupID else { return }
            try recordOwnership(entry, descriptor: descriptor)
        }
    }

    private func recordOwnership(_ entry: LayerEntry, descriptor: Int32?) throws {
        guard let descriptor else {
            // NOTE: the kernel allows user.* xattrs only on regular files and directories, so
            // a symlink or device keeps the unpacking user's ownership in a later layer.
            report.warnings.append("\(entry.displayPath): owner \(entry.uid):\(entry.gid) not kept on a \(kindName(entry.kind))")
            return
        }
        let value = OwnershipRecord(uid: entry.uid, gid: entry.gid, mode: entry.mode).encoded
        let status = value.withUnsafeBytes { fsetxattr(descriptor, OwnershipRecord.attributeName, $0.baseAddress, $0.count, 0) }
        guard status == 0 else {
            throw LayeringError.io(SystemError("set \(OwnershipRecord.attributeName) on", path: entry.displayPath), entry: entry.displayPath)
        }
    }

    private func applyExtendedAttributes(_ entry: LayerEntry, descriptor: Int32) throws {
        for attribute in entry.xattrs {
            let name = attribute.name
            // Overlay's own attributes (opaque, redirect, metacopy) would change what an overlay
            // mount shows; only whiteout entries may produce them. Ownership records come
            // from this unpacker, not from layers.
            let allowed =
                name == FileCapability.attributeName
                || (name.hasPrefix("user.") && !name.hasPrefix("user.overlay.") && name != OwnershipRecord.attributeName)
            guard allowed else {
                report.warnings.append("\(entry.displayPath): xattr \(name) not applied")
                continue
            }
            let status = attribute.value.withUnsafeBytes { fsetxattr(descriptor, name, $0.baseAddress, $0.count, 0) }
            if status != 0 {
                if options.ownership == .record && (errno == EPERM || errno == ENOTSUP) {
                    report.warnings.append("\(entry.displayPath): xattr \(name) not applied: \(String(cString: strerror(errno)))")
                    continue
                }
                throw LayeringError.io(SystemError("set xattr \(name) on", path: entry.displayPath), entry: entry.displayPath)
            }
        }
    }

    private func setTimes(_ entry: LayerEntry, parent: Int32, name: [UInt8]) throws {
        var times = timespecs(entry.mtime)
        try check("set times of", entry) { TreeWalker.withPath(name) { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) } }
    }

    private func finishDirectories() throws {
        dropCachedParent()
        for directory in deferred.reversed() {
            // O_NOFOLLOW: a later entry may have replaced the directory with a symlink.
            guard let descriptor = try? root.open(directory.components, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else { continue }
            defer { close(descriptor) }
            let display = TreeWalker.display(RootedDirectory.join(directory.components))
            guard fchmod(descriptor, mode_t(directory.mode)) == 0 else {
                throw LayeringError.io(SystemError("chmod", path: display), entry: display)
            }
            var times = timespecs(directory.mtime)
            guard futimens(descriptor, &times) == 0 else {
                throw LayeringError.io(SystemError("set times of", path: display), entry: display)
            }
        }
        deferred.removeAll()
    }

    // MARK: - Helpers

    private func parentDescriptor(_ components: [[UInt8]], entry: String) throws -> Int32 {
        if let cachedParent, cachedParent.components == components { return cachedParent.descriptor }
        dropCachedParent()
        let descriptor: Int32
        do {
            descriptor = try root.openDirectory(components, create: true)
        } catch let error as SystemError {
            throw LayeringError.io(error, entry: entry)
        }
        cachedParent = (components, descriptor)
        return descriptor
    }

    private func dropCachedParent() {
        if let cachedParent { close(cachedParent.descriptor) }
        cachedParent = nil
        parentIsStale = false
    }

    private func openReadableDirectory(_ components: [[UInt8]], entry: String) throws -> Int32 {
        let pathDescriptor = try parentDescriptor(components, entry: entry)
        // Reopen the O_PATH descriptor for reading through its own entry, never by name.
        let descriptor = openat(pathDescriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LayeringError.io(SystemError("open directory", path: entry), entry: entry) }
        return descriptor
    }

    private func names(in directory: Int32, entry: String) throws -> [[UInt8]] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            throw LayeringError.io(SystemError("read directory", path: entry), entry: entry)
        }
        defer { closedir(stream) }
        var names = [[UInt8]]()
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        return names
    }

    /// Removes `name` in `parent` and, for a directory, everything below it, through
    /// descriptors opened with O_NOFOLLOW so that no symlink is ever followed.
    func removeTree(parent: Int32, name: [UInt8], entry: String) throws {
        // The cached descriptor may be below what goes away; drop it once the entry is done.
        parentIsStale = true
        try Self.removeTree(parent: parent, name: name, entry: entry)
    }

    static func removeTree(parent: Int32, name: [UInt8], entry: String) throws {
        var status = stat()
        guard TreeWalker.withPath(name, { fstatat(parent, $0, &status, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            if errno == ENOENT { return }
            throw LayeringError.io(SystemError("stat", path: TreeWalker.display(name)), entry: entry)
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            let descriptor = TreeWalker.withPath(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard descriptor >= 0, let stream = fdopendir(descriptor) else {
                throw LayeringError.io(SystemError("open directory", path: TreeWalker.display(name)), entry: entry)
            }
            defer { closedir(stream) }
            var children = [[UInt8]]()
            while let item = readdir(stream) {
                let child = withUnsafeBytes(of: item.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                if child != [0x2e] && child != [0x2e, 0x2e] { children.append(child) }
            }
            for child in children { try removeTree(parent: descriptor, name: child, entry: entry) }
        }
        let flags = status.st_mode & S_IFMT == S_IFDIR ? AT_REMOVEDIR : 0
        guard TreeWalker.withPath(name, { unlinkat(parent, $0, flags) }) == 0 else {
            throw LayeringError.io(SystemError("remove", path: TreeWalker.display(name)), entry: entry)
        }
    }

    @discardableResult
    private func check<T: BinaryInteger>(_ operation: String, _ entry: LayerEntry, _ body: () -> T) throws -> T {
        try check(operation, entry.displayPath, body)
    }

    @discardableResult
    private func check<T: BinaryInteger>(_ operation: String, _ entry: String, _ body: () -> T) throws -> T {
        do {
            return try checkSyscall(operation, path: entry, body)
        } catch let error as SystemError {
            throw LayeringError.io(error, entry: entry)
        }
    }

    private func timespecs(_ seconds: Int64) -> [timespec] {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: 0)
        return [time, time]
    }

    private func kindName(_ kind: LayerEntry.Kind) -> String {
        switch kind {
        case .regular: return "file"
        case .directory: return "directory"
        case .symlink: return "symlink"
        case .hardlink: return "hardlink"
        case .characterDevice: return "character device"
        case .blockDevice: return "block device"
        case .fifo: return "fifo"
        }
    }
}
