import Foundation
import Testing

/// In the serialized checkpoint suite, so that no other test writes to the shared root while
/// it is copied.
extension CheckpointTests {
    /// Kills `crib checkpoint` at each of its durable steps: the container record before the
    /// run, then, after CRIU's dump, the first write of the checkpoint layer, its commit, the
    /// config, the manifest and index.json.
    @Test func checkpointKilledAtEveryStep() throws {
        let setup = try CheckpointFixture.shared()
        let directory = try makeTemporaryDirectory("checkpoint-kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A root of this test's own, so that the other checkpoint tests never see its kills.
        let root = directory + "/root"
        try copyTree(setup.fixture.root, to: root)
        let loop = KillLoop(template: root, scratch: directory)

        var kills = 0
        var finished = false
        for step in 1...40 where !finished {
            // A new tag each time, so that each run writes a new image from nothing.
            let tag = "counter-kill-\(step)"
            let token = KillPointTests.uniqueToken()
            let arguments = ["--root", root, "checkpoint", "counter", "-t", tag, "-e", "STOP_AT=30", "-e", token, "--timeout", "60"]
            let interrupted = try KillLoop.crib(arguments, environment: ["CRIB_TEST_KILL_AT": "\(step)"])
            if !interrupted.killed {
                #expect(interrupted.status == 0, "step \(step): the run that was not killed failed: \(interrupted.stderr)")
                finished = true
            } else {
                kills += 1
                let killedAt = interrupted.stderr.split(separator: "\n").last { $0.contains("CRIB_TEST_KILL_AT") } ?? "no hook message"
                try loop.expectSound(root, after: String(killedAt))
                #expect(
                    KillPointTests.survivors(withEnvironment: token).isEmpty, "step \(step): a container process survived crib, after \(killedAt)")
                // The next crib that lists containers removes the killed checkpoint's container and its CRIU images.
                let listing = try KillLoop.crib(["--root", root, "ps", "--all", "--format", "json"])
                #expect(listing.stdout.filter { !$0.isWhitespace } == "[]", "step \(step): \(listing.stdout)")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/containers")) ?? []).isEmpty, "step \(step)")
                let inspect = try KillLoop.crib(["--root", root, "inspect", tag])
                if inspect.status == 0 {
                    // Only the last step, the index update, may leave the tag, and then the image is whole.
                    #expect(killedAt.contains("index.json"), "step \(step): \(tag) exists after \(killedAt)")
                }

                let again = try KillLoop.crib(arguments)
                #expect(again.status == 0, "step \(step), after \(killedAt): the next checkpoint failed: \(again.stderr)")
            }

            // The image restores and counts on from the checkpoint.
            let running = try KillLoop.start(["--root", root, "run", "--rm", tag])
            Thread.sleep(forTimeInterval: 1.5)
            running.process.terminate()
            let restored = running.finish()
            let counts = restored.stdout.split(separator: "\n").compactMap { $0.hasPrefix("count ") ? Int($0.dropFirst(6)) : nil }
            #expect((counts.first ?? 0) > 30, "step \(step): \(tag) did not restore: \(restored.stderr)")
            try loop.expectSound(root, after: "the checkpoint after step \(step)")
            #expect(try KillLoop.crib(["--root", root, "rmi", tag]).status == 0)
        }
        #expect(finished, "crib checkpoint was still killed after 40 steps")
        #expect(kills >= 5, "only \(kills) durable steps in a checkpoint")
    }
}
