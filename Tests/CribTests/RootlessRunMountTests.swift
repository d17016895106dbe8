import Foundation
import Testing

/// `RUN --mount` when crib runs without root: the user is root in the RUN container's user
/// namespace, a writable bind is an overlay mounted there, and caches and secrets belong to
/// the user on the host.
@Suite(.serialized)
struct RootlessRunMountTests {
    @Test func unprivilegedBuildMounts() throws {
        guard geteuid() == 0 else {
            Issue.record("this test needs root, to run crib as the user cribtest through runuser")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            Issue.record("this test needs /bin/busybox (Debian package busybox-static)")
            return
        }
        let user = "cribtest"
        if try CribFixture.execute("/usr/bin/id", [user]).status != 0 {
            try CheckpointFixture.run("/usr/sbin/useradd", ["-m", user])
        }

        // Everything the user reads or writes lives in one directory the user owns.
        let home = "/tmp/crib-rootless-mount-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let manager = FileManager.default
        try manager.createDirectory(atPath: home + "/busybox/bin", withIntermediateDirectories: true)
        try manager.copyItem(atPath: "/bin/busybox", toPath: home + "/busybox/bin/busybox")
        for applet in ["sh", "cat", "echo", "wc", "stat"] {
            try manager.createSymbolicLink(atPath: home + "/busybox/bin/" + applet, withDestinationPath: "busybox")
        }
        try manager.createDirectory(atPath: home + "/context/src", withIntermediateDirectories: true)
        try "from context\n".write(toFile: home + "/context/src/f.txt", atomically: false, encoding: .utf8)
        try "user-secret".write(toFile: home + "/token", atomically: false, encoding: .utf8)
        try """
            FROM busybox
            RUN --mount=type=bind,source=src,target=/src,rw echo changed > /src/f.txt && cat /src/f.txt > /rw.txt
            RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count.txt
            RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /length.txt && stat -c '%a %u' /run/secrets/token > /mode.txt
            """.write(toFile: home + "/context/Dockerfile", atomically: false, encoding: .utf8)
        try CribFixture.copyExecutable(CribFixture.binary, to: home + "/crib")
        try CheckpointFixture.run("/bin/chown", ["-R", "\(user):\(user)", home])

        func asUser(_ arguments: [String]) throws -> CribFixture.Result {
            try CribFixture.execute(
                "/usr/sbin/runuser", ["-u", user, "--", "env", "HOME=\(home)", home + "/crib", "--root", home + "/root"] + arguments)
        }
        let imported = try asUser(["import", home + "/busybox", "busybox"])
        #expect(imported.status == 0, "crib import: \(imported.stderr)")
        for attempt in 1...2 {
            let built = try asUser(["build", "--no-cache", "--secret", "id=token,src=\(home)/token", "-t", "mounted", home + "/context"])
            #expect(built.status == 0, "crib build: \(built.stderr)")
            let contents = try asUser(["run", "--rm", "mounted", "cat", "/rw.txt", "/count.txt", "/length.txt", "/mode.txt"])
            #expect(contents.stdout == "changed\n\(attempt)\n11\n400 0\n", "crib run: \(contents.stderr)")
        }
        #expect(try String(contentsOfFile: home + "/context/src/f.txt", encoding: .utf8) == "from context\n")
    }
}
