import Foundation
import OCI
import Testing

struct InterruptedWriteTests {
    /// Kills `crib import` with SIGKILL while it is writing a layer blob read from a pipe.
    /// Nothing partial may be visible afterwards, and the same import must then succeed.
    @Test func killMidBlobLeavesStoreValid() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "before")
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json"))

        // A tarball of incompressible data, so the layer blob grows as the tar is fed in.
        let tree = fixture.scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        let payload = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom")).readData(ofLength: 24 << 20)
        try payload.write(to: URL(fileURLWithPath: tree + "/payload"))
        let tarball = fixture.scratch + "/rootfs.tar"
        #expect(try CribFixture.execute("tar", ["-cf", tarball, "-C", tree, "."]).status == 0)
        let tar = try Data(contentsOf: URL(fileURLWithPath: tarball))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CribFixture.binary)
        process.arguments = ["--root", fixture.root, "import", "--compression", "none", "-", "interrupted"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Feed half of the tar, then wait until a temporary blob holds part of it.
        input.fileHandleForWriting.write(tar.prefix(tar.count / 2))
        let tmp = fixture.root + "/tmp"
        var sawPartialBlob = false
        for _ in 0..<500 {
            let sizes = ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).compactMap {
                (try? FileManager.default.attributesOfItem(atPath: tmp + "/" + $0))?[.size] as? Int
            }
            if sizes.contains(where: { $0 > 1 << 20 }) {
                sawPartialBlob = true
                break
            }
            usleep(10_000)
        }
        #expect(sawPartialBlob, "crib never wrote a temporary blob of more than 1 MiB")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        // Every visible blob is whole: its content hashes to its name.
        let blobs = fixture.root + "/store/blobs/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
            let data = try Data(contentsOf: URL(fileURLWithPath: blobs + "/" + name))
            #expect(Digest.sha256(data).encoded == name, "blob \(name) does not match its content")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json")) == indexBefore)
        let listing = try fixture.crib(["images", "--format", "json"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(!listing.stdout.contains("interrupted"))

        let again = try fixture.crib(["import", "--compression", "none", tarball, "interrupted"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try fixture.crib(["inspect", "interrupted"]).status == 0)

        // The collection removes what the killed process left in tmp/.
        #expect(try fixture.crib(["prune"]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }
}
