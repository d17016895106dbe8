import Foundation

/// Writes a tar stream (POSIX ustar, with pax extended headers for long names and sizes)
/// holding regular files and directories: what image archives contain.
///
/// Layer content is written through Layering and libarchive; this writer only packs the
/// archive container, so that OCI needs no library below it. Every entry gets mtime 0,
/// uid and gid 0, so that the same image gives the same archive bytes.
public final class TarWriter {
    private let sink: any ByteSink
    private var finished = false

    public init(sink: any ByteSink) {
        self.sink = sink
    }

    public func addDirectory(_ path: String) throws {
        let name = path.hasSuffix("/") ? path : path + "/"
        try writeHeader(name: name, size: 0, mode: 0o755, type: UInt8(ascii: "5"))
    }

    public func addFile(_ path: String, data: Data) throws {
        try addFile(path, size: Int64(data.count)) { sink in
            try data.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// Adds a file of exactly `size` bytes, which `body` writes to the sink it is given.
    public func addFile(_ path: String, size: Int64, mode: Int = 0o644, body: (any ByteSink) throws -> Void) throws {
        try writeHeader(name: path, size: size, mode: mode, type: UInt8(ascii: "0"))
        let counter = CountingSink(sink)
        try body(counter)
        guard counter.count == size else {
            throw OCIError.sizeMismatch(object: "archive entry \(path)", expected: size, actual: counter.count)
        }
        try pad(size)
    }

    /// Writes the two zero blocks that end an archive.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        try writeZeros(1024)
    }

    // MARK: - Headers

    private func writeHeader(name: String, size: Int64, mode: Int, type: UInt8) throws {
        var records = [(String, String)]()
        let nameBytes = Array(name.utf8)
        var nameField = nameBytes
        var prefixField = [UInt8]()
        if nameBytes.count > 100 {
            if let split = Self.ustarSplit(nameBytes) {
                prefixField = Array(nameBytes[..<split])
                nameField = Array(nameBytes[(split + 1)...])
            } else {
                records.append(("path", name))
                nameField = Array(nameBytes.suffix(100))
            }
        }
        // Eleven octal digits hold sizes below 8 GiB; pax carries larger ones.
        if size > 0o77777777777 { records.append(("size", "\(size)")) }

        if !records.isEmpty {
            var body = Data()
            for (key, value) in records { body.append(Self.paxRecord(key, value)) }
            try writeHeaderBlock(
                name: Array("PaxHeaders/\(name.suffix(80))".utf8.prefix(100)), prefix: [], size: Int64(body.count),
                mode: 0o644, type: UInt8(ascii: "x"))
            try body.withUnsafeBytes { try sink.write($0) }
            try pad(Int64(body.count))
        }
        try writeHeaderBlock(
            name: nameField, prefix: prefixField, size: min(size, 0o77777777777), mode: mode, type: type)
    }

    private func writeHeaderBlock(name: [UInt8], prefix: [UInt8], size: Int64, mode: Int, type: UInt8) throws {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, limit: Int) {
            for (index, byte) in bytes.prefix(limit).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            put(Array(padded.utf8), at: offset, limit: width - 1)
        }
        put(name, at: 0, limit: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        block[156] = type
        put(Array("ustar\u{0}00".utf8), at: 257, limit: 8)
        put(Array("root".utf8), at: 265, limit: 32)
        put(Array("root".utf8), at: 297, limit: 32)
        put(prefix, at: 345, limit: 155)

        // The checksum is computed with its own field read as eight spaces.
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8), at: 148, limit: 6)
        block[154] = 0
        block[155] = 0x20
        try block.withUnsafeBytes { try sink.write($0) }
    }

    /// Finds the position of a `/` that splits a long name into ustar's prefix (155) and name (100).
    static func ustarSplit(_ bytes: [UInt8]) -> Int? {
        guard bytes.count <= 256 else { return nil }
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1)
        where bytes[index] == UInt8(ascii: "/") && bytes.count - index - 1 <= 100 && bytes.count - index - 1 > 0 {
            return index
        }
        return nil
    }

    /// Encodes one pax record, `LENGTH key=value\n`, whose length counts its own digits.
    static func paxRecord(_ key: String, _ value: String) -> Data {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)".utf8.count + body.utf8.count != length { length += 1 }
        return Data("\(length)\(body)".utf8)
    }

    private func pad(_ size: Int64) throws {
        let remainder = Int(size % 512)
        if remainder != 0 { try writeZeros(512 - remainder) }
    }

    private func writeZeros(_ count: Int) throws {
        let zeros = [UInt8](repeating: 0, count: count)
        try zeros.withUnsafeBytes { try sink.write($0) }
    }
}
