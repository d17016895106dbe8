import Foundation
import Testing

/// A bind mount's target comes from the user, its path from the image. Symlinks in the image
/// that point out of the rootfs, `..` in the target and a directory swapped for a symlink while
/// crib resolves it must all end with the volume inside the rootfs, never on a host path.
@Suite(.serialized)
struct MountTargetTests {
    /// An image layout and a volume target; `HOST` in a link destination or the target stands
    /// for the host sentinel directory's absolute path.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let links: [(path: String, destination: String)]
        let target: String
        var testDescription: String { name }
    }

    static let climb = "../../../../../../../../.."

    static let cases: [Case] = [
        Case(name: "absolute link", links: [("/escape", "HOST")], target: "/escape"),
        Case(name: "climbing relative link", links: [("/escape", climb + "HOST")], target: "/escape"),
        Case(name: "nested links", links: [("/a", "b/c"), ("/b", "/d"), ("/d", climb + "/")], target: "/a/HOST"),
        Case(name: "link in the middle", links: [("/mid", climb)], target: "/mid/HOST"),
        Case(name: "dot-dot in the target", links: [], target: "/www/../../../../..HOST"),
        Case(name: "dangling link", links: [("/escape", "HOST/created")], target: "/escape"),
        Case(name: "link to a link", links: [("/one", "/two"), ("/two", climb + "HOST")], target: "/one/sub"),
    ]

    @Test(arguments: cases)
    func volumeStaysInsideRootfs(_ scenario: Case) throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let sentinel = try HostSentinel()
        defer { sentinel.remove() }
        let source = try Self.volumeSource()
        defer { try? FileManager.default.removeItem(atPath: source) }

        for link in scenario.links {
            let destination = link.destination.replacingOccurrences(of: "HOST", with: sentinel.directory)
            try FileManager.default.createSymbolicLink(atPath: rootfs.path + link.path, withDestinationPath: destination)
        }
        let target = scenario.target.replacingOccurrences(of: "HOST", with: sentinel.directory)

        let result = try Shell.crib(
            root: root.path,
            ["run", "--rm", "-v", "\(source):\(target)", "--rootfs", rootfs.path, "sh", "-c",
             "cat '\(target)/file' && touch '\(target)/new'"])

        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "from the volume\n")
        #expect(FileManager.default.fileExists(atPath: source + "/new"))
        #expect(try sentinel.contents() == ["secret"])
        #expect(try !Self.hostMountPoints().contains { $0.hasPrefix(sentinel.directory) })
    }

    /// runc's CVE-2021-30465: a process swaps a directory on the target's path for a symlink
    /// out of the rootfs, as fast as it can, while crib starts containers that bind a volume
    /// below it.
    @Test func racingSymlinkSwapStaysInside() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let sentinel = try HostSentinel()
        defer { sentinel.remove() }
        let source = try Self.volumeSource()
        defer { try? FileManager.default.removeItem(atPath: source) }

        try FileManager.default.createDirectory(atPath: rootfs.path + "/race/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: rootfs.path + "/race-link", withDestinationPath: Self.climb + sentinel.directory)
        let swapper = SymlinkSwapper(rootfs.path + "/race", rootfs.path + "/race-link")
        try swapper.start()
        defer { swapper.stop() }

        // The container prints where the volume is mounted in its own view. A volume bound on a
        // host path before pivot_root would not be in its mount table at all. The swapper keeps
        // running, so the directory mounted on may have been renamed to race-link since.
        let script = "awk '$4 ~ /crib-volume/ {print $5}' /proc/self/mountinfo"
        let inside = ["/race/sub\n", "/race-link/sub\n", sentinel.directory + "/sub\n"]
        var started = 0
        for _ in 0..<30 {
            let result = try Shell.crib(
                root: root.path, ["run", "--rm", "-v", "\(source):/race/sub", "--rootfs", rootfs.path, "sh", "-c", script])
            // A swap can make a path vanish halfway, and crib then fails with 125.
            if result.status == 0 {
                started += 1
                #expect(inside.contains(result.output), "\(result.output)")
            } else {
                #expect(result.status == 125, "\(result.error)")
            }
        }
        swapper.stop()

        #expect(swapper.swaps > 0)
        #expect(started > 0)
        #expect(try sentinel.contents() == ["secret"])
        #expect(try !Self.hostMountPoints().contains { $0.hasPrefix(sentinel.directory) })
    }

    static func volumeSource() throws -> String {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("crib-volume-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "from the volume\n".write(toFile: source + "/file", atomically: true, encoding: .utf8)
        return source
    }

    /// Lists the mount points of this process's mount namespace, the host's.
    static func hostMountPoints() throws -> [String] {
        try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }
    }
}
