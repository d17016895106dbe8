import Foundation
import Testing

/// crib run as the unprivileged user cribtest through runuser, with a root of that user's own
/// that contains copies of images from the checkpoint fixture's root.
struct UnprivilegedCrib {
    static let user = "cribtest"
    let home: String
    let command: [String]

    init(_ setup: CheckpointFixture, images: [String]) throws {
        guard geteuid() == 0 else {
            Issue.record("this test needs root, to run crib as the user \(Self.user) through runuser")
            throw CribFixture.FixtureError.missingTool("root")
        }
        if try CribFixture.execute("/usr/bin/id", [Self.user]).status != 0 {
            try CheckpointFixture.run("/usr/sbin/useradd", ["-m", Self.user])
        }
        // The user's own root, and a copy of crib the user may run.
        home = "/home/\(Self.user)/crib-checkpoint-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let binary = home + "/crib"
        try CribFixture.copyExecutable(CribFixture.binary, to: binary)
        command = ["/usr/sbin/runuser", "-u", Self.user, "--", "env", "HOME=/home/\(Self.user)", binary, "--root", home + "/root"]
        for image in images {
            let archive = home + "/\(image).tar"
            let saved = try setup.fixture.crib(["save", "-o", archive, image])
            guard saved.status == 0 else {
                Issue.record("crib save \(image): \(saved.stderr)")
                throw CribFixture.FixtureError.missingTool("crib save")
            }
        }
        try CheckpointFixture.run("/bin/chown", ["-R", "\(Self.user):\(Self.user)", home])
        for image in images {
            let loaded = try crib(["load", "-i", home + "/\(image).tar"])
            guard loaded.status == 0 else {
                Issue.record("crib load \(image) as \(Self.user): \(loaded.stderr)")
                throw CribFixture.FixtureError.missingTool("crib load")
            }
        }
    }

    func crib(_ arguments: [String]) throws -> CribFixture.Result {
        try CribFixture.execute(command[0], Array(command.dropFirst()) + arguments)
    }

    /// Deletes the user's root. Files of the user's subordinate ids need root, which the test has.
    func remove() {
        try? FileManager.default.removeItem(atPath: home)
    }
}
