import CArchive
import Foundation
import OCI

// The only file that handles libarchive's pointers. Both classes free them in deinit, and
// every libarchive status goes through `check`, which adds `archive_error_string`.

private let fileTypeMask: UInt32 = 0o170000
private let regularType: UInt32 = 0o100000
private let directoryType: UInt32 = 0o040000
private let symlinkType: UInt32 = 0o120000
private let characterDeviceType: UInt32 = 0o020000
private let blockDeviceType: UInt32 = 0o060000
private let fifoType: UInt32 = 0o010000

private func check(_ status: Int32, _ archive: OpaquePointer, _ operation: String, object: String? = nil) throws {
    // ARCHIVE_WARN covers recoverable conditions such as a name stored as binary because
    // it is not valid in the locale's character set: the bytes still go through unchanged.
    guard status < ARCHIVE_WARN else { return }
    let message = archive_error_string(archive).map { String(cString: $0) } ?? "status \(status)"
    throw LayeringError.archive(operation: operation, object: object, message: message)
}

private func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    try (bytes + [0]).withUnsafeBufferPointer { buffer in
        try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
    }
}

/// A PAX tar writer that hands each finished block of the archive to a `ByteSink`.
final class ArchiveWriter {
    private let archive: OpaquePointer
    private let entry: OpaquePointer
    private let sink: ByteSink
    /// The sink's error, kept because libarchive only learns that the write callback failed.
    private var sinkError: (any Error)?
    private var isOpen = false

    init(sink: ByteSink) throws {
        guard let archive = archive_write_new(), let entry = archive_entry_new() else {
            throw LayeringError.archive(operation: "create a tar writer", object: nil, message: "out of memory")
        }
        self.archive = archive
        self.entry = entry
        self.sink = sink

        // pax_restricted writes a plain ustar header unless an entry needs more (long names,
        // large ids, xattrs), which keeps layers small and readable by every tar reader.
        try check(archive_write_set_format_pax_restricted(archive), archive, "select the PAX tar format")
        // No padding of the last block to 10240 bytes: the end-of-archive marker is enough.
        try check(archive_write_set_bytes_in_last_block(archive, 1), archive, "set the tar block size")
        let status = archive_write_open2(
            archive, Unmanaged.passUnretained(self).toOpaque(), nil,
            { archive, context, buffer, length in
                let writer = Unmanaged<ArchiveWriter>.fromOpaque(context!).takeUnretainedValue()
                return writer.forward(buffer, length)
            }, nil, nil)
        try check(status, archive, "open the tar writer")
        isOpen = true
    }

    deinit {
        if isOpen { archive_write_close(archive) }
        archive_write_free(archive)
        archive_entry_free(entry)
    }

    private func forward(_ buffer: UnsafeRawPointer?, _ length: Int) -> Int {
        do {
            try sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        } catch {
            sinkError = error
            return -1
        }
    }

    private func rethrowingSinkError(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            if let sinkError { throw sinkError }
            throw error
        }
    }

    /// Writes the header of `header`; for a regular file, `write(data:)` must follow with its size in bytes.
    func writeHeader(_ header: LayerEntry) throws {
        archive_entry_clear(entry)
        withCString(header.path) { archive_entry_copy_pathname(entry, $0) }
        switch header.kind {
        case .regular(let size):
            archive_entry_set_filetype(entry, regularType)
            archive_entry_set_size(entry, size)
        case .directory:
            archive_entry_set_filetype(entry, directoryType)
        case .symlink(let target):
            archive_entry_set_filetype(entry, symlinkType)
            withCString(target) { archive_entry_copy_symlink(entry, $0) }
        case .hardlink(let target):
            archive_entry_set_filetype(entry, regularType)
            withCString(target) { archive_entry_copy_hardlink(entry, $0) }
            archive_entry_set_size(entry, 0)
        case .characterDevice(let major, let minor):
            archive_entry_set_filetype(entry, characterDeviceType)
            archive_entry_set_rdevmajor(entry, dev_t(major))
            archive_entry_set_rdevminor(entry, dev_t(minor))
        case .blockDevice(let major, let minor):
            archive_entry_set_filetype(entry, blockDeviceType)
            archive_entry_set_rdevmajor(entry, dev_t(major))
            archive_entry_set_rdevminor(entry, dev_t(minor))
        case .fifo:
            archive_entry_set_filetype(entry, fifoType)
        }
        archive_entry_set_perm(entry, mode_t(header.mode & 0o7777))
        archive_entry_set_uid(entry, Int64(header.uid))
        archive_entry_set_gid(entry, Int64(header.gid))
        archive_entry_set_mtime(entry, time_t(header.mtime), 0)
        for attribute in header.xattrs {
            attribute.value.withUnsafeBytes { value in
                archive_entry_xattr_add_entry(entry, attribute.name, value.baseAddress, value.count)
            }
        }
        try rethrowingSinkError {
            try check(archive_write_header(archive, entry), archive, "write the tar header of", object: header.displayPath)
        }
    }

    /// Appends file data to the current entry.
    func write(data: UnsafeRawBufferPointer, path: [UInt8]) throws {
        guard data.count > 0 else { return }
        try rethrowingSinkError {
            let written = archive_write_data(archive, data.baseAddress, data.count)
            if written < 0 {
                try check(Int32(written), archive, "write the data of", object: String(decoding: path, as: UTF8.self))
            }
        }
    }

    /// Writes the end-of-archive marker and flushes the last block.
    func close() throws {
        isOpen = false
        try rethrowingSinkError {
            try check(archive_write_close(archive), archive, "finish the tar archive")
        }
    }
}

/// A tar reader over a `ByteSource` of an uncompressed tar stream.
final class ArchiveReader {
    private let archive: OpaquePointer
    private let source: ByteSource
    private var buffer: UnsafeMutableRawBufferPointer
    private var sourceError: (any Error)?
    private var sourceEnded = false
    private var currentSize: Int64 = 0
    /// The name given in messages, such as the layer's digest.
    let name: String
    /// True when the stream ended right after the data of its last entry, without the
    /// padding and end-of-archive marker. umoci 0.4.7's `insert` writes such layers, and Go's
    /// archive/tar (docker, containerd, umoci) reads them as complete.
    private(set) var endedWithoutMarker = false

    init(source: ByteSource, name: String) throws {
        guard let archive = archive_read_new() else {
            throw LayeringError.archive(operation: "create a tar reader", object: nil, message: "out of memory")
        }
        self.archive = archive
        self.source = source
        self.name = name
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        try check(archive_read_support_format_tar(archive), archive, "enable the tar format")
        let status = archive_read_open(
            archive, Unmanaged.passUnretained(self).toOpaque(), nil,
            { archive, context, output in
                let reader = Unmanaged<ArchiveReader>.fromOpaque(context!).takeUnretainedValue()
                return reader.fill(output)
            }, nil)
        try rethrowingSourceError { try check(status, archive, "open the tar stream", object: name) }
    }

    deinit {
        archive_read_free(archive)
        buffer.deallocate()
    }

    private func fill(_ output: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        do {
            let count = try source.read(into: buffer)
            if count == 0 { sourceEnded = true }
            output?.pointee = UnsafeRawPointer(buffer.baseAddress)
            return count
        } catch {
            sourceError = error
            return -1
        }
    }

    private func rethrowingSourceError(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            if let sourceError { throw sourceError }
            throw error
        }
    }

    /// Reads the next header, or returns nil at the end of the archive.
    func nextEntry() throws -> LayerEntry? {
        if endedWithoutMarker { return nil }
        var pointer: OpaquePointer?
        var status: Int32 = ARCHIVE_OK
        try rethrowingSourceError {
            status = archive_read_next_header(archive, &pointer)
            if status != ARCHIVE_EOF { try check(status, archive, "read a tar header from", object: name) }
        }
        guard status != ARCHIVE_EOF, let entry = pointer else { return nil }

        guard let rawPath = archive_entry_pathname(entry) ?? archive_entry_pathname_utf8(entry) else {
            throw LayeringError.archive(operation: "read a tar header from", object: name, message: "entry without a name")
        }
        let path = Array(UnsafeRawBufferPointer(start: rawPath, count: strlen(rawPath)))
        let kind: LayerEntry.Kind
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink(target: Array(UnsafeRawBufferPointer(start: hardlink, count: strlen(hardlink))))
        } else {
            switch UInt32(archive_entry_filetype(entry)) & fileTypeMask {
            case regularType:
                kind = .regular(size: archive_entry_size(entry))
            case directoryType:
                kind = .directory
            case symlinkType:
                guard let target = archive_entry_symlink(entry) else {
                    throw LayeringError.invalidEntry(entry: String(decoding: path, as: UTF8.self), reason: "symlink without a target")
                }
                kind = .symlink(target: Array(UnsafeRawBufferPointer(start: target, count: strlen(target))))
            case characterDeviceType:
                kind = .characterDevice(
                    major: UInt32(archive_entry_rdevmajor(entry)), minor: UInt32(archive_entry_rdevminor(entry)))
            case blockDeviceType:
                kind = .blockDevice(
                    major: UInt32(archive_entry_rdevmajor(entry)), minor: UInt32(archive_entry_rdevminor(entry)))
            case fifoType:
                kind = .fifo
            default:
                throw LayeringError.invalidEntry(
                    entry: String(decoding: path, as: UTF8.self),
                    reason: "unsupported file type \(String(archive_entry_filetype(entry), radix: 8))")
            }
        }

        var xattrs = [LayerEntry.ExtendedAttribute]()
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                xattrs.append(.init(name: String(cString: name), value: Array(UnsafeRawBufferPointer(start: value, count: size))))
            }
        }

        if case .regular(let size) = kind { currentSize = size } else { currentSize = 0 }
        return LayerEntry(
            path: path, kind: kind, mode: UInt32(archive_entry_perm(entry)) & 0o7777,
            uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)),
            gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
            mtime: Int64(archive_entry_mtime(entry)), xattrs: xattrs)
    }

    /// Calls `body` with each data block of the current entry and its offset in the file;
    /// offsets skip the holes of sparse entries.
    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        var end: Int64 = 0
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            var status: Int32 = ARCHIVE_OK
            try rethrowingSourceError {
                status = archive_read_data_block(archive, &block, &size, &offset)
                if status < ARCHIVE_WARN && sourceEnded && sourceError == nil && end >= currentSize {
                    // All the data arrived; only the padding after it is missing.
                    endedWithoutMarker = true
                    status = ARCHIVE_EOF
                }
                if status != ARCHIVE_EOF { try check(status, archive, "read tar data from", object: name) }
            }
            if status == ARCHIVE_EOF { return }
            try body(UnsafeRawBufferPointer(start: block, count: size), offset)
            end = max(end, offset + Int64(size))
        }
    }
}
