import Foundation
import Testing

/// Two builds, a pull from a loopback registry, `crib check` and `crib prune` running at once on one root.
@Suite(.serialized)
struct ConcurrentUseTests {
    @Test func buildsPullAndPruneAtOnce() throws {
        let setup = try KillPointTests.Setup()
        let registry = try RegistryFixture()
        defer { registry.stop() }
        let root = setup.root

        // The pulled image has a 16 MiB layer of its own, so that the pull writes a sizeable blob
        // while the builds run.
        let source = setup.directory + "/source"
        try copyTree(root, to: source)
        let payload = try setup.context("payload", dockerfile: "FROM busybox\nCOPY payload /payload\n", files: ["payload": try KillPointTests.randomData(16 << 20)])
        try #require(try KillLoop.crib(["--root", source, "build", "--compression", "none", "-t", "payload", payload]).status == 0)
        let reference = "\(registry.host)/concurrent/payload:1"
        try #require(try KillLoop.crib(["--root", source, "push", "--tls-verify=false", "payload", "docker://\(reference)"]).status == 0)

        for round in 1...4 {
            // Each round changes what the builds copy, so their old images become dangling and
            // prune has blobs to remove while the new ones are written.
            var contexts = [String]()
            for name in ["a", "b"] {
                contexts.append(
                    try setup.context(
                        "\(name)-\(round)",
                        dockerfile: "FROM busybox\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy.txt && echo ran >> /copy.txt\n",
                        files: ["data.txt": Data("\(name) \(round)\n".utf8)]))
            }
            if round > 1 {
                // The pull fetches every blob again, unless prune has not collected them yet.
                #expect(try KillLoop.crib(["--root", root, "rmi", reference]).status == 0)
            }

            // Odd rounds start prune first, so the others wait for it. Even rounds start it while
            // the others are writing, so it waits for them.
            let pruneFirst = round % 2 == 1
            let early = pruneFirst ? try KillLoop.start(["--root", root, "prune"]) : nil
            let processes = [
                try KillLoop.start(["--root", root, "build", "-t", "concurrent-a", contexts[0]]),
                try KillLoop.start(["--root", root, "build", "-t", "concurrent-b", contexts[1]]),
                try KillLoop.start(["--root", root, "pull", "--tls-verify=false", reference]),
                // A check among them finds nothing: blobs and layers in progress are not damage.
                try KillLoop.start(["--root", root, "check"]),
            ]
            if !pruneFirst { usleep(UInt32(round) * 50_000) }
            let prune = try early ?? KillLoop.start(["--root", root, "prune"])
            let results = (processes + [prune]).map { $0.finish() }
            for (label, result) in zip(["build a", "build b", "pull", "check", "prune"], results) {
                #expect(result.status == 0 && !result.killed, "round \(round): \(label) failed: \(result.stderr)")
            }

            let loop = KillLoop(template: root, scratch: setup.directory)
            try loop.expectSound(root, after: "round \(round)")
            for name in ["a", "b"] {
                let ran = try KillLoop.crib(["--root", root, "run", "--rm", "concurrent-\(name)", "cat", "/copy.txt"])
                #expect(ran.stdout == "\(name) \(round)\nran\n", "round \(round): concurrent-\(name): \(ran.stderr)")
            }
            let pulled = try KillLoop.crib(["--root", root, "run", "--rm", reference, "sh", "-c", "cat /payload | wc -c"])
            #expect(pulled.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(16 << 20)", "round \(round): \(pulled.stderr)")
        }

        // A last prune with nothing running leaves a store that checks clean.
        #expect(try KillLoop.crib(["--root", root, "prune"]).status == 0)
        try KillLoop(template: root, scratch: setup.directory).expectSound(root, after: "the last prune")
    }
}
