import Foundation

/// Reads the table of an uncompressed tar file and its members by offset, without
/// extracting anything: image archives are read in place, so no member path ever reaches
/// the file system.
///
/// It understands ustar, pax extended headers (`path`, `linkpath`, `size`), GNU long
/// names and base-256 sizes: what Go's archive/tar (skopeo, docker) and GNU tar write.
public final class TarArchiveReader {
    public struct Entry: Sendable {
        public enum Kind: Sendable {
            case file
            case directory
            case symlink(String)
            case hardlink(String)
            case other
        }
        public let path: String
        public let kind: Kind
        public let size: Int64
        /// Where the member's data starts in the file.
        let offset: Int64
    }

    public let path: String
    private let descriptor: Int32
    /// Members by normalised path (no leading `./` or `/`); a later member replaces an earlier one.
    public private(set) var entries: [String: Entry] = [:]

    public init(path: String) throws {
        self.path = path
        descriptor = try checkSyscall("open", path: path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        do {
            try scan()
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// The member at `path`, following symbolic and hard links inside the archive.
    public func entry(_ name: String) -> Entry? {
        var current = Self.normalize(name)
        for _ in 0..<16 {
            guard let entry = entries[current] else { return nil }
            switch entry.kind {
            case .symlink(let target):
                let base = (current as NSString).deletingLastPathComponent
                current = Self.normalize(target.hasPrefix("/") ? target : (base.isEmpty ? target : base + "/" + target))
            case .hardlink(let target):
                current = Self.normalize(target)
            default:
                return entry
            }
        }
        return nil
    }

    /// Reads a whole member, up to `limit` bytes.
    public func read(_ name: String, limit: Int64 = 8 << 20) throws -> Data {
        guard let entry = entry(name), case .file = entry.kind else {
            throw OCIError.invalidContent(object: "archive \(path)", reason: "no file \(name) in it")
        }
        guard entry.size <= limit else {
            throw OCIError.tooLarge(object: "\(name) in \(path)", size: entry.size, limit: limit)
        }
        return try readBytes(at: entry.offset, count: Int(entry.size))
    }

    /// Opens a member for streaming.
    public func open(_ name: String) throws -> any ByteSource {
        guard let entry = entry(name), case .file = entry.kind else {
            throw OCIError.invalidContent(object: "archive \(path)", reason: "no file \(name) in it")
        }
        return MemberSource(reader: self, offset: entry.offset, size: entry.size)
    }

    // MARK: - Scanning

    private func scan() throws {
        var offset: Int64 = 0
        var paxPath: String?
        var paxLink: String?
        var paxSize: Int64?
        var longName: String?
        var longLink: String?

        while true {
            let block = try readBytes(at: offset, count: 512, allowShort: true)
            if block.count < 512 {
                throw OCIError.invalidContent(object: "archive \(path)", reason: "truncated header at byte \(offset)")
            }
            let bytes = [UInt8](block)
            if bytes.allSatisfy({ $0 == 0 }) { return }
            guard Self.checksumMatches(bytes) else {
                throw OCIError.invalidContent(
                    object: "archive \(path)", reason: "not a tar file (bad header checksum at byte \(offset))")
            }

            let type = bytes[156]
            var size = try Self.number(bytes[124..<136], at: offset, path: path)
            if let paxSize, type != UInt8(ascii: "x"), type != UInt8(ascii: "g") { size = paxSize }
            let dataOffset = offset + 512
            offset = dataOffset + (size + 511) / 512 * 512

            switch type {
            case UInt8(ascii: "x"):
                let records = try Self.parsePax(try readBytes(at: dataOffset, count: Int(size)))
                paxPath = records["path"]
                paxLink = records["linkpath"]
                paxSize = records["size"].flatMap { Int64($0) }
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "L"):
                longName = Self.cString(try readBytes(at: dataOffset, count: Int(size)))
                continue
            case UInt8(ascii: "K"):
                longLink = Self.cString(try readBytes(at: dataOffset, count: Int(size)))
                continue
            default:
                break
            }

            var name = paxPath ?? longName ?? Self.cString(Data(bytes[0..<100]))
            if paxPath == nil && longName == nil, bytes[257..<262].elementsEqual(Array("ustar".utf8)) {
                let prefix = Self.cString(Data(bytes[345..<500]))
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            let link = paxLink ?? longLink ?? Self.cString(Data(bytes[157..<257]))
            paxPath = nil
            paxLink = nil
            paxSize = nil
            longName = nil
            longLink = nil

            let kind: Entry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink(link)
            case UInt8(ascii: "1"): kind = .hardlink(link)
            default: kind = .other
            }
            let normalized = Self.normalize(name)
            entries[normalized] = Entry(path: normalized, kind: kind, size: size, offset: dataOffset)
        }
    }

    static func normalize(_ name: String) -> String {
        var parts = [Substring]()
        for part in name.split(separator: "/") where part != "." && !part.isEmpty {
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    private static func checksumMatches(_ bytes: [UInt8]) -> Bool {
        guard let stored = try? number(bytes[148..<156], at: 0, path: "") else { return false }
        var unsigned = 0
        var signed = 0
        for (index, byte) in bytes.enumerated() {
            let value = (148..<156).contains(index) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        return Int64(unsigned) == stored || Int64(signed) == stored
    }

    /// An octal field, or a base-256 one (high bit set) as GNU tar writes large sizes.
    private static func number(_ field: ArraySlice<UInt8>, at offset: Int64, path: String) throws -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in field.dropFirst() { value = value << 8 | Int64(byte) }
            return value
        }
        var value: Int64 = 0
        for byte in field {
            if byte == 0 || byte == 0x20 {
                if value > 0 { break } else { continue }
            }
            guard byte >= 0x30 && byte <= 0x37 else {
                throw OCIError.invalidContent(
                    object: "archive \(path)", reason: "invalid number in header at byte \(offset)")
            }
            value = value * 8 + Int64(byte - 0x30)
        }
        return value
    }

    private static func parsePax(_ data: Data) throws -> [String: String] {
        var records = [String: String]()
        var rest = Substring(decoding: data, as: UTF8.self)
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: " "), let length = Int(rest[..<space]), length > 0,
                length <= rest.utf8.count
            else { break }
            let record = rest.utf8.prefix(length)
            let text = Substring(record).dropFirst(rest.distance(from: rest.startIndex, to: space) + 1)
            if let equals = text.firstIndex(of: "=") {
                records[String(text[..<equals])] = String(text[text.index(after: equals)...].dropLast())
            }
            rest = Substring(rest.utf8.dropFirst(length))
        }
        return records
    }

    private static func cString(_ data: Data) -> String {
        String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
    }

    fileprivate func readBytes(at offset: Int64, count: Int, allowShort: Bool = false) throws -> Data {
        var data = Data(count: count)
        var done = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            while done < count {
                let got = try checkSyscall("read", path: path) {
                    pread(descriptor, base + done, count - done, off_t(offset) + off_t(done))
                }
                if got == 0 { break }
                done += got
            }
        }
        if done < count && !allowShort {
            throw OCIError.invalidContent(
                object: "archive \(path)", reason: "truncated at byte \(offset + Int64(done))")
        }
        return data.prefix(done)
    }

    /// One member's bytes, read with pread so that several members can stream at once.
    private final class MemberSource: ByteSource {
        let reader: TarArchiveReader
        var offset: Int64
        var remaining: Int64

        init(reader: TarArchiveReader, offset: Int64, size: Int64) {
            self.reader = reader
            self.offset = offset
            self.remaining = size
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard remaining > 0, let base = buffer.baseAddress else { return 0 }
            let wanted = Int(min(Int64(buffer.count), remaining))
            let got = try checkSyscall("read", path: reader.path) {
                pread(reader.descriptor, base, wanted, off_t(offset))
            }
            guard got > 0 else {
                throw OCIError.invalidContent(object: "archive \(reader.path)", reason: "truncated at byte \(offset)")
            }
            offset += Int64(got)
            remaining -= Int64(got)
            return got
        }
    }
}
