import Foundation
import OCI

/// Writes a small image straight through the OCI module: one uncompressed layer holding
/// `/hello`, so that commands can be tested before any layer is built by crib itself.
@discardableResult
func writeSampleImage(root: String, name: String, command: [String] = ["/hello"]) throws -> StoredImage {
    let store = try ContentStore(root: RootDirectory(path: root))
    let tar = tarArchive(name: "hello", content: Data("hello\n".utf8))
    let layer = try store.writeBlob(tar, mediaType: .ociLayer)
    var config = ImageConfig(diffIDs: [layer.digest])
    config.created = Timestamp.rfc3339(Date())
    config.config?.cmd = command
    return try store.commitImage(config: config, layers: [layer], names: [name])
}

/// A one-file ustar archive, written by hand so that this fixture needs no tar library.
func tarArchive(name: String, content: Data) -> Data {
    var archive = ustarHeader(name: name, size: content.count, type: "0")
    archive.append(content)
    archive.append(Data(count: (512 - content.count % 512) % 512))
    archive.append(Data(count: 1024))
    return archive
}

/// Returns a ustar header. A size too large for octal is written in base-256, as GNU tar does.
func ustarHeader(name: String, size: Int, type: Character) -> Data {
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, at offset: Int) {
        for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
    }
    put(name, at: 0)
    put("0000644\u{0}", at: 100)
    put("0000000\u{0}", at: 108)
    put("0000000\u{0}", at: 116)
    if size < 1 << 33 {
        put(String(format: "%011o\u{0}", size), at: 124)
    } else {
        header[124] = 0x80
        for index in 0..<8 { header[135 - index] = UInt8(truncatingIfNeeded: size >> (8 * index)) }
    }
    put("00000000000\u{0}", at: 136)
    put("        ", at: 148)
    put(String(type), at: 156)
    put("ustar\u{0}00", at: 257)
    let checksum = header.reduce(0) { $0 + Int($1) }
    put(String(format: "%06o\u{0} ", checksum), at: 148)
    return Data(header)
}
