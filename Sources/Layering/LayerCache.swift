import Foundation
import OCI

/// Unpacked layers under `<root>/layers/<diffID>/` (such as `layers/sha256:5f3a…`), each
/// unpacked once and shared by every container as an overlay lower directory.
///
/// The name contains a `:`, which overlayfs reads as a separator of lower directories, so
/// mount code must escape it as `\:`.
public final class LayerCache {
    public let root: RootDirectory
    /// The xattr prefix of opaque directories: `trusted.overlay.` for root, whose overlay mounts
    /// read trusted xattrs, and `user.overlay.` otherwise, for mounts with `userxattr`.
    public let overlayXattrPrefix: String
    private let log: any LogSink

    public init(root: RootDirectory, overlayXattrPrefix: String? = nil, log: any LogSink = SilentLog()) {
        self.root = root
        self.overlayXattrPrefix = overlayXattrPrefix ?? (geteuid() == 0 ? "trusted.overlay." : "user.overlay.")
        self.log = log
    }

    /// Returns the directory of the layer with `diffID`, whether or not it is unpacked yet.
    public func directory(for diffID: Digest) -> String {
        root.layers + "/" + diffID.description
    }

    public func contains(_ diffID: Digest) -> Bool {
        var status = stat()
        return lstat(directory(for: diffID), &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Returns the overlay lower directory of the layer with `diffID`, unpacking `source`
    /// into it first when it is not there yet.
    ///
    /// The layer is unpacked into `<root>/tmp`, checked against `diffID`, and renamed into
    /// place, so a directory under `layers/` is always complete. When another process
    /// renamed the same layer first, its copy wins and this one is removed.
    @discardableResult
    public func unpack(diffID: Digest, from source: () throws -> any ByteSource) throws -> String {
        let target = directory(for: diffID)
        if contains(diffID) { return target }
        try makeDirectory(root.layers)
        try makeDirectory(root.tmp)

        let staging = root.tmp + "/layer-\(diffID.encoded.prefix(16))-\(UUID().uuidString)"
        try checkSyscall("create directory", path: staging) { mkdir(staging, 0o755) }
        do {
            let unpacker = try LayerUnpacker(
                root: staging, options: .init(format: .overlay(xattrPrefix: overlayXattrPrefix)), log: log)
            let report = try unpacker.apply(try source(), name: diffID.description, expectedDiffID: diffID)
            for device in report.skippedDevices {
                log.log(.warning, "layer \(diffID.shortID): device node \(device) not created")
            }
            if rename(staging, target) != 0 {
                let error = errno
                guard error == EEXIST || error == ENOTEMPTY else { throw SystemError("rename", path: staging, errno: error) }
                log.log(.debug, "layer \(diffID.shortID) was unpacked by another process; using its copy")
                try Self.removeDirectory(staging)
            } else {
                DurableStep.completed("rename of unpacked layer \(diffID) into \(target)")
            }
        } catch {
            try? Self.removeDirectory(staging)
            // A gzip or digest error from deep in the stream names no layer, so the error adds it.
            switch error {
            case LayeringError.compression, LayeringError.diffIDMismatch, is OCIError:
                throw LayeringError.archive(operation: "unpack layer", object: diffID.description, message: "\(error)")
            default:
                throw error
            }
        }
        return target
    }

    /// Applies `layers` in order to `directory` as one plain tree, for where overlayfs
    /// cannot be mounted; whiteouts delete what the layers below put there.
    public static func flatten(
        _ layers: [(name: String, source: () throws -> any ByteSource)], into directory: String, log: any LogSink = SilentLog()
    ) throws {
        let unpacker = try LayerUnpacker(root: directory, options: .init(format: .flattened), log: log)
        for layer in layers {
            _ = try unpacker.apply(try layer.source(), name: layer.name)
        }
    }

    /// Removes `path` and everything below it without following symlinks.
    static func removeDirectory(_ path: String) throws {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let parentPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let parent = try checkSyscall("open", path: parentPath) { open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(parent) }
        try LayerUnpacker.removeTree(parent: parent, name: Array(path[path.index(after: slash)...].utf8), entry: path)
    }

    private func makeDirectory(_ path: String) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw SystemError("create directory", path: prefix) }
        }
    }
}
