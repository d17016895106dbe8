import Foundation
import Layering
import OCI

/// Reads the input as a tar archive twice: with OCI's archive reader, the way `crib load`
/// reads an archive's members, and with the layer unpacker, which applies it to an empty root
/// the way a pulled layer is applied. After the unpack, nothing may exist next to the root:
/// an entry written outside it is an escape, reported as a crash.
private let workspace: String = {
    let template = FileManager.default.temporaryDirectory.appendingPathComponent("crib-fuzz-tar.XXXXXX").path
    var buffer = Array(template.utf8CString)
    guard let made = mkdtemp(&buffer) else { fatalError("failed to create a fuzz workspace in \(template)") }
    return String(cString: made)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let archivePath = workspace + "/input.tar"
    let rootPath = workspace + "/root"
    let data = Data(bytes: bytes, count: count)
    guard FileManager.default.createFile(atPath: archivePath, contents: data) else {
        fatalError("failed to write \(archivePath)")
    }

    if let reader = try? TarArchiveReader(path: archivePath) {
        for name in reader.entries.keys.sorted() {
            _ = try? reader.read(name, limit: 1 << 20)
        }
    }

    guard mkdir(rootPath, 0o755) == 0 else { fatalError("failed to create \(rootPath): errno \(errno)") }
    if let source = try? FileSource(path: archivePath), let unpacker = try? LayerUnpacker(root: rootPath) {
        _ = try? unpacker.apply(source, name: "fuzz")
    }

    let left = (try? FileManager.default.contentsOfDirectory(atPath: workspace).sorted()) ?? []
    guard left == ["input.tar", "root"] else {
        fatalError("the unpacker wrote outside its root: \(workspace) contains \(left)")
    }
    do {
        try FileManager.default.removeItem(atPath: rootPath)
    } catch {
        fatalError("failed to remove \(rootPath): \(error)")
    }
    return 0
}
