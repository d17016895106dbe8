import Foundation
import OCI
import Testing

@testable import Layering

/// A directory under /tmp removed by `remove()`; tests call it in `defer`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "layering") throws {
        let template = NSTemporaryDirectory() + "crib-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw SystemError("mkdtemp", path: template) }
        path = String(cString: made)
    }

    func remove() {
        _ = try? shell("chattr -R -i \(path) 2>/dev/null; rm -rf \(path)")
    }

    func sub(_ name: String) -> String { path + "/" + name }
}

struct CommandFailure: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let output: String
    var description: String { "command failed with status \(status): \(command)\n\(output)" }
}

/// Runs `command` with bash and returns its stdout; a non-zero status throws with stderr.
@discardableResult
func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailure(
            command: command, status: process.terminationStatus,
            output: String(decoding: data + errorData, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

/// Fails the test loudly when a tool the test depends on is missing.
func requireTools(_ tools: String...) throws {
    for tool in tools {
        do {
            try shell("command -v \(tool)")
        } catch {
            Issue.record("missing tool \(tool): install it with scripts/setup.sh")
            throw error
        }
    }
}

func requireRoot() throws {
    guard geteuid() == 0 else {
        Issue.record("this test needs root (mknod, chown, setcap, trusted.* xattrs)")
        throw CommandFailure(command: "geteuid", status: 1, output: "not root")
    }
}

/// Packs `directory` into the layer file `file` and returns the digests and size.
func pack(_ directory: String, into file: String, options: LayerWriter.Options = .init()) throws -> LayerWriter.Result {
    let sink = try FileSink(path: file)
    let writer = try LayerWriter(sink: sink, options: options)
    try writer.addTree(at: directory)
    return try writer.finish()
}

func unpack(_ file: String, into directory: String, options: LayerUnpacker.Options = .init()) throws -> LayerUnpacker.Report {
    let unpacker = try LayerUnpacker(root: directory, options: options)
    return try unpacker.apply(try FileSource(path: file), name: file)
}

/// Lists every file below `root`, one line each: path, type, mode, owner, mtime, size, content hash, link
/// target, device numbers, hardlink group and the xattrs layers carry. Two trees with the
/// same listing hold the same files.
func listing(_ root: String, mtimes: Bool = true) throws -> [String] {
    var lines = [String]()
    var inodes = [UInt64: String]()
    try TreeWalker.walk(root: root) { relative, absolute, status in
        let path = relative.map { $0 >= 0x20 && $0 < 0x7f ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
        var line = "\(path) type=\(String(status.st_mode & S_IFMT, radix: 8)) mode=\(String(status.st_mode & 0o7777, radix: 8))"
        line += " owner=\(status.st_uid):\(status.st_gid)"
        let type = status.st_mode & S_IFMT
        if mtimes && type != S_IFDIR && type != S_IFLNK { line += " mtime=\(status.st_mtim.tv_sec)" }
        if type == S_IFREG {
            let data = try readBytes(absolute)
            line += " size=\(data.count) sha=\(Digest.sha256(data).shortID)"
            if status.st_nlink > 1 {
                if let first = inodes[UInt64(status.st_ino)] {
                    line += " link=\(first)"
                } else {
                    inodes[UInt64(status.st_ino)] = path
                }
            }
        }
        if type == S_IFLNK {
            var target = [CChar](repeating: 0, count: 4096)
            let count = TreeWalker.withPath(absolute) { readlink($0, &target, target.count) }
            line += " target=\(String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))"
        }
        if type == S_IFCHR || type == S_IFBLK { line += " rdev=\(status.st_rdev)" }
        if type != S_IFLNK {
            for attribute in try TreeWalker.extendedAttributes(of: absolute)
            where attribute.name.hasPrefix("user.") || attribute.name.hasPrefix("security.capability") || attribute.name.hasPrefix("trusted.overlay.") {
                line += " \(attribute.name)=\(attribute.value.map { String(format: "%02x", $0) }.joined())"
            }
        }
        lines.append(line)
        return true
    }
    return lines
}

/// Reads a whole file by its raw path bytes, which may not be UTF-8.
func readBytes(_ path: [UInt8]) throws -> [UInt8] {
    let descriptor = TreeWalker.withPath(path) { open($0, O_RDONLY | O_NOFOLLOW) }
    guard descriptor >= 0 else { throw SystemError("open", path: TreeWalker.display(path)) }
    defer { close(descriptor) }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        guard count >= 0 else { throw SystemError("read", path: TreeWalker.display(path)) }
        if count == 0 { return bytes }
        bytes += buffer[..<count]
    }
}

/// One tar entry for `makeTar`; python3's tarfile writes it exactly as given, `..` included.
struct TarSpec: Codable, CustomStringConvertible {
    var type: String  // file, dir, symlink, hardlink, char
    var name: String
    var data: String = ""
    var target: String = ""

    static func file(_ name: String, _ data: String = "data\n") -> TarSpec { TarSpec(type: "file", name: name, data: data) }
    static func dir(_ name: String) -> TarSpec { TarSpec(type: "dir", name: name) }
    static func symlink(_ name: String, to target: String) -> TarSpec { TarSpec(type: "symlink", name: name, target: target) }
    static func hardlink(_ name: String, to target: String) -> TarSpec { TarSpec(type: "hardlink", name: name, target: target) }

    var description: String { target.isEmpty ? "\(type) \(name)" : "\(type) \(name) -> \(target)" }
}

/// Writes a PAX tar of `entries` to `path` with python3's tarfile.
func makeTar(_ entries: [TarSpec], at path: String) throws {
    let json = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
    let script = """
        import io, json, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
            for spec in json.loads(sys.argv[2]):
                info = tarfile.TarInfo(spec["name"])
                info.mtime = 1000000000
                data = spec["data"].encode()
                if spec["type"] == "file":
                    info.size = len(data)
                    info.mode = 0o644
                    tar.addfile(info, io.BytesIO(data))
                    continue
                info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[spec["type"]]
                info.mode = 0o755
                info.linkname = spec["target"]
                tar.addfile(info)
        """
    try shell("python3 -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))' \(path) '\(json.replacingOccurrences(of: "'", with: "'\\''"))'")
}
