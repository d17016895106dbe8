import Foundation
import Testing

/// One crib root shared by the checkpoint tests, holding two images made by `crib import` of
/// a Debian trixie root file system with criu from sid (scripts/criu-test-base.sh makes it):
/// `counter`, whose entrypoint counts in memory and checkpoints itself, and `server`, a
/// static HTTP server that knows nothing of checkpoints.
final class CheckpointFixture: @unchecked Sendable {
    static let baseScript = "scripts/criu-test-base.sh"
    static var baseTarball: String {
        (ProcessInfo.processInfo.environment["CRIB_TEST_CACHE"] ?? "/var/cache/crib-tests") + "/criu-base.tar.gz"
    }

    let fixture: CribFixture

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: CheckpointFixture?

    static func shared() throws -> CheckpointFixture {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let fixture = try CheckpointFixture()
        made = fixture
        // The suite shares one root, which no test's defer can remove, so it goes at exit.
        atexit { CheckpointFixture.removeShared() }
        return fixture
    }

    private static func removeShared() {
        guard let made else { return }
        try? FileManager.default.removeItem(atPath: (made.fixture.root as NSString).deletingLastPathComponent)
    }

    private init() throws {
        guard FileManager.default.fileExists(atPath: Self.baseTarball) else {
            Issue.record("the criu test base \(Self.baseTarball) is missing; run \(Self.baseScript) (scripts/test.sh does)")
            throw CribFixture.FixtureError.missingTool(Self.baseTarball)
        }
        fixture = try CribFixture()
        let scratch = fixture.scratch
        try Data(Self.counterSource.utf8).write(to: URL(fileURLWithPath: scratch + "/counter.c"))
        try Data(Self.serverSource.utf8).write(to: URL(fileURLWithPath: scratch + "/server.c"))
        let rootfs = scratch + "/rootfs"
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
        try Self.run("tar", ["-xzf", Self.baseTarball, "-C", rootfs])
        // Static, so that the programs run in any root file system.
        for program in ["counter", "server"] {
            try Self.run("gcc", ["-static", "-O2", "-o", rootfs + "/usr/local/bin/" + program, scratch + "/" + program + ".c"])
        }
        let entrypoint = rootfs + "/usr/local/bin/counter-entrypoint"
        try Data(Self.entrypointScript.utf8).write(to: URL(fileURLWithPath: entrypoint))
        chmod(entrypoint, 0o755)

        try expectSuccess(fixture.crib(["import", "-c", #"ENTRYPOINT ["/usr/local/bin/counter-entrypoint"]"#, rootfs, "counter"]))
        try expectSuccess(fixture.crib(["import", "-c", #"CMD ["/usr/local/bin/server", "8080"]"#, rootfs, "server"]))
        try? FileManager.default.removeItem(atPath: rootfs)
    }

    private func expectSuccess(_ result: CribFixture.Result) throws {
        guard result.status == 0 else {
            Issue.record("crib import failed: \(result.stderr)")
            throw CribFixture.FixtureError.missingTool("crib import")
        }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> CribFixture.Result {
        let result = try CribFixture.execute(tool, arguments)
        guard result.status == 0 else {
            Issue.record("\(tool) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
            throw CribFixture.FixtureError.missingTool(tool)
        }
        return result
    }

    /// Counts every 20 ms and prints the count; with an argument, creates /tmp/reached once
    /// the count gets there.
    static let counterSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        int main(int argc, char **argv) {
            long count = 0, stop = argc > 1 ? atol(argv[1]) : -1;
            struct timespec tick = {0, 20 * 1000 * 1000};
            for (;;) {
                printf("count %ld\\n", ++count);
                fflush(stdout);
                if (count == stop) fclose(fopen("/tmp/reached", "w"));
                nanosleep(&tick, NULL);
            }
        }
        """

    /// Answers every request with how many it has served.
    static let serverSource = """
        #include <netinet/in.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/socket.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
            if (bind(listener, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(listener, 16) < 0) return 1;
            long served = 0;
            for (;;) {
                int client = accept(listener, NULL, NULL);
                if (client < 0) continue;
                char request[4096], body[64], response[256];
                read(client, request, sizeof(request));
                int length = snprintf(body, sizeof(body), "served %ld\\n", ++served);
                int total = snprintf(response, sizeof(response),
                    "HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s", length, body);
                write(client, response, total);
                close(client);
                printf("request %ld\\n", served);
                fflush(stdout);
            }
        }
        """

    /// The image's own checkpoint logic, as an Open Liberty entrypoint has it: restore when a
    /// dump exists; with STOP_AT, count to it, dump the counter and exit 0. The counter runs
    /// without capabilities, because criu cannot give a restored task more than it has.
    static let entrypointScript = """
        #!/bin/sh
        images=/var/lib/counter
        if [ -f "$images/inventory.img" ]; then
          exec criu restore --images-dir "$images" --log-file /tmp/restore.log \\
            --inherit-fd "fd[1]:$(cat "$images/stdout")" --inherit-fd "fd[2]:$(cat "$images/stderr")"
        fi
        [ -n "$STOP_AT" ] || exec counter
        setsid setpriv --bounding-set -all --inh-caps -all --no-new-privs counter "$STOP_AT" &
        pid=$!
        while [ ! -e /tmp/reached ]; do sleep 0.01; done
        mkdir -p "$images"
        readlink "/proc/$pid/fd/1" > "$images/stdout"
        readlink "/proc/$pid/fd/2" > "$images/stderr"
        criu dump --tree "$pid" --images-dir "$images" --log-file /tmp/dump.log || { cat /tmp/dump.log >&2; exit 1; }
        """
}

/// A `crib run` left running in the background, stopped with a signal.
final class BackgroundCrib {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()

    convenience init(root: String, _ arguments: [String]) throws {
        try self.init(command: [CribFixture.binary, "--root", root], arguments)
    }

    /// Runs `command` (crib and its global options, perhaps behind runuser) with `arguments`.
    init(command: [String], _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst()) + arguments
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Sends SIGTERM, waits, and returns what it printed; `ended` is false when crib run
    /// needed a SIGKILL after 10 seconds.
    func stop() -> (stdout: String, stderr: String, status: Int32, ended: Bool) {
        var ended = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                ended = false
                kill(process.processIdentifier, SIGKILL)
            }
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self), process.terminationStatus, ended)
    }
}

/// The counts a counter printed, in order.
func counts(in text: String) -> [Int] {
    text.split(separator: "\n").compactMap { line in
        line.hasPrefix("count ") ? Int(line.dropFirst(6)) : nil
    }
}
