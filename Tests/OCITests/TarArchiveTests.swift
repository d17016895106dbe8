import Foundation
import Testing

@testable import OCI

struct TarArchiveTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "crib-tar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func writerOutputReadBackAndByGNUTar() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.tar"
        let longName = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 90)
        let veryLong = String(repeating: "x", count: 300)
        let sink = try FileSink(path: path)
        let writer = TarWriter(sink: sink)
        try writer.addDirectory("blobs")
        try writer.addFile("blobs/small", data: Data("hello".utf8))
        try writer.addFile(longName, data: Data("long".utf8))
        try writer.addFile(veryLong, data: Data(repeating: 7, count: 1000))
        try writer.finish()

        let reader = try TarArchiveReader(path: path)
        #expect(try reader.read("blobs/small") == Data("hello".utf8))
        #expect(try reader.read(longName) == Data("long".utf8))
        #expect(try reader.read(veryLong) == Data(repeating: 7, count: 1000))

        let (status, listing) = try runTool("tar", ["-tf", path])
        #expect(status == 0, "\(listing)")
        #expect(listing.contains(longName))
        #expect(listing.contains(veryLong))
    }

    @Test func readerFollowsGNUTarLongNamesAndSymlinks() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let content = directory + "/content"
        let deep = content + "/" + String(repeating: "n", count: 150)
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        try "payload".write(toFile: deep + "/file.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: content + "/link.txt", withDestinationPath: String(repeating: "n", count: 150) + "/file.txt")

        for format in ["gnu", "pax", "ustar"] where format != "ustar" {
            let path = directory + "/\(format).tar"
            let (status, output) = try runTool("tar", ["--format=\(format)", "-C", content, "-cf", path, "."])
            #expect(status == 0, "\(output)")
            let reader = try TarArchiveReader(path: path)
            #expect(try reader.read(String(repeating: "n", count: 150) + "/file.txt") == Data("payload".utf8))
            #expect(try reader.read("link.txt") == Data("payload".utf8))
        }
    }

    @Test func notATarRejectedNamingFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/garbage.tar"
        try Data(repeating: 0x41, count: 1024).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TarArchiveReader(path: path)
            Issue.record("garbage was read as a tar")
        } catch {
            #expect("\(error)".contains(path))
        }
    }

    @Test func gzipSourceInflatesConcatenatedMembers() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = directory + "/a"
        let second = directory + "/b"
        try "first part\n".write(toFile: first, atomically: true, encoding: .utf8)
        try String(repeating: "second part\n", count: 10000).write(toFile: second, atomically: true, encoding: .utf8)
        #expect(try runTool("gzip", [first, second]).0 == 0)
        let joined =
            try Data(contentsOf: URL(fileURLWithPath: first + ".gz"))
            + Data(contentsOf: URL(fileURLWithPath: second + ".gz"))
        try joined.write(to: URL(fileURLWithPath: directory + "/joined.gz"))

        let source = try GzipSource(try FileSource(path: directory + "/joined.gz"), name: "joined.gz")
        let sink = DataSink()
        try pump(source, into: sink)
        #expect(sink.data == Data(("first part\n" + String(repeating: "second part\n", count: 10000)).utf8))
    }

    @Test func gzipSourceRejectsTruncatedStream() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/t"
        try String(repeating: "data ", count: 50000).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try runTool("gzip", [file]).0 == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: file + ".gz"))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: directory + "/cut.gz"))
        #expect(throws: OCIError.self) {
            try pump(try GzipSource(try FileSource(path: directory + "/cut.gz"), name: "cut.gz"), into: DataSink())
        }
    }
}
