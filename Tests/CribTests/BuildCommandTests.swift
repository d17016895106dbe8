import Foundation
import Testing

/// Runs the built crib binary with `arguments` in `directory` and returns its exit status,
/// stdout and stderr.
private func runCrib(_ arguments: [String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let binary = ProcessInfo.processInfo.environment["CRIB_BINARY"] ?? packageRoot + "/.build/debug/crib"
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: binary, NSLocalizedDescriptionKey: "crib binary missing at \(binary); run swift build first"])
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

private func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("crib-build-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

struct BuildCommandTests {
    @Test func dryRunPrintsSteps() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dockerfile = """
            ARG JDK=21
            FROM eclipse-temurin:${JDK}-jdk AS build
            WORKDIR /src
            COPY Hello.java .
            RUN javac Hello.java
            FROM eclipse-temurin:${JDK}-jre
            COPY --from=build /src/Hello.class /app/
            CMD ["java", "-cp", "/app", "Hello"]
            """
        try dockerfile.write(toFile: directory + "/Containerfile", atomically: true, encoding: .utf8)
        try "class Hello {}\n".write(toFile: directory + "/Hello.java", atomically: true, encoding: .utf8)

        let result = try runCrib(
            ["build", "--dry-run", "--root", directory + "/root", "--build-arg", "JDK=17", "-t", "hello", "."], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("[1/2] STEP 1/4: FROM eclipse-temurin:${JDK}-jdk AS build\n"))
        #expect(result.stdout.contains("base: image eclipse-temurin:17-jdk (not in the local store"))
        #expect(result.stdout.contains("[1/2] STEP 4/4: RUN javac Hello.java\n    Containerfile:5  RUN /bin/sh -c javac Hello.java\n"))
        #expect(result.stdout.contains("[2/2] STEP 2/3: COPY --from=build /src/Hello.class /app/\n    Containerfile:7  COPY --from=0 src/Hello.class /app/\n"))
        #expect(result.stdout.contains("    cmd: [\"java\", \"-cp\", \"/app\", \"Hello\"]\n"))
        // A dry run leaves no store behind.
        #expect(!FileManager.default.fileExists(atPath: directory + "/root"))
    }

    @Test func buildPrintsStepsAndReusesCache() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "FROM scratch\nLABEL purpose=test\nCOPY data.txt /data.txt\n".write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        try "data\n".write(toFile: directory + "/data.txt", atomically: true, encoding: .utf8)
        let arguments = ["build", "--root", directory + "/root", "--timestamp", "0", "-t", "copy-only", "."]

        let first = try runCrib(arguments, in: directory)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("STEP 1/3: FROM scratch\nSTEP 2/3: LABEL purpose=test\nSTEP 3/3: COPY data.txt /data.txt\n"))
        #expect(first.stderr.contains("Successfully tagged localhost/copy-only:latest"))
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        #expect(id.allSatisfy { $0.isHexDigit })

        let second = try runCrib(arguments, in: directory)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stderr.contains("--> Using cache "))
        #expect(second.stdout == first.stdout)
    }

    @Test func dockerfileFromStandardInput() throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "base")
        try "content\n".write(toFile: fixture.scratch + "/file.txt", atomically: true, encoding: .utf8)

        let built = try fixture.crib(
            ["build", "-q", "-t", "from-stdin", "-f", "-", fixture.scratch], input: Data("FROM base\nCOPY file.txt /\n".utf8))
        #expect(built.status == 0, "\(built.stderr)")
        let inspect = try fixture.crib(["inspect", "from-stdin"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("COPY file:"), "\(inspect.stdout)")

        // `build -` has no context at all: a COPY finds nothing.
        let noContext = try fixture.crib(["build", "-q", "-t", "no-context", "-"], input: Data("FROM base\nLABEL a=b\n".utf8))
        #expect(noContext.status == 0, "\(noContext.stderr)")
        let copying = try fixture.crib(["build", "-"], input: Data("FROM base\nCOPY file.txt /\n".utf8))
        #expect(copying.status == 125)
        #expect(copying.stderr.contains("<stdin>:2:"), "\(copying.stderr)")

        let broken = try fixture.crib(["build", "-f", "-", fixture.scratch], input: Data("FROM base\nBOGUS x\n".utf8))
        #expect(broken.status == 125)
        #expect(broken.stderr.contains("crib: <stdin>:2: unknown instruction \"BOGUS\""), "\(broken.stderr)")
    }

    @Test func parseErrorNamesLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "FROM busybox\nRUN true\nENV\n".write(toFile: directory + "/Dockerfile.test", atomically: true, encoding: .utf8)

        let result = try runCrib(["build", "--dry-run", "-f", "Dockerfile.test", "."], in: directory)
        #expect(result.status == 125)
        #expect(result.stderr.contains("crib: Dockerfile.test:3: ENV requires at least one argument\n"), "stderr: \(result.stderr)")
    }

    @Test(arguments: [
        (["build", "--network", "bridge", "."], "invalid --network \"bridge\""),
        (["build", "--compression", "lz4", "."], "invalid --compression \"lz4\""),
        (["build", "--timestamp", "yesterday", "."], "invalid timestamp \"yesterday\""),
        (["build", "--build-arg", "=x", "."], "invalid --build-arg \"=x\""),
        (["build", "--platform", "linux", "."], "invalid --platform \"linux\""),
        (["build", "--secret", "src=/etc/hostname", "."], "invalid --secret \"src=/etc/hostname\": id= is required"),
        (
            ["build", "--secret", "id=a,src=/nonexistent/token", "."],
            "invalid --secret \"id=a,src=/nonexistent/token\": file /nonexistent/token is missing or unreadable"
        ),
        (["build", "--dry-run", "missing-dir"], "build context missing-dir is not a directory"),
        (["build", "--dry-run", "."], "no Containerfile or Dockerfile in ."),
        (["build", "--dry-run", "--target", "nope", "-f", "Dockerfile.t", "."], "target stage \"nope\" not found"),
    ])
    func rejectsBadInput(arguments: [String], message: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "FROM busybox AS one\n".write(toFile: directory + "/Dockerfile.t", atomically: true, encoding: .utf8)

        let result = try runCrib(arguments, in: directory)
        #expect(result.status == 125)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test func platformSetsTargetArgs() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "FROM scratch\nARG TARGETPLATFORM TARGETARCH\n".write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)

        let result = try runCrib(["build", "--dry-run", "--root", directory + "/root", "--platform", "linux/arm64/v8", "."], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("ARG TARGETPLATFORM=linux/arm64/v8 TARGETARCH=arm64\n"), "stdout: \(result.stdout)")
    }

    @Test func dryRunShowsMounts() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "FROM scratch\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE --mount=type=secret,id=npmrc make\n"
            .write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)

        let result = try runCrib(["build", "--dry-run", "--root", directory + "/root", "."], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(
            result.stdout.contains("        mount type=cache,target=/root/.cache,id=/root/.cache,sharing=shared,mode=755,uid=0,gid=0,rw\n"),
            "stdout: \(result.stdout)")
        #expect(
            result.stdout.contains(
                "        mount type=secret,target=/run/secrets/npmrc,id=npmrc,mode=400,uid=0,gid=0,required=false,env=,file=true,ro\n"),
            "stdout: \(result.stdout)")
    }

    @Test(arguments: [
        ("FROM scratch\nCOPY --from=nostage /x /y\n", "Dockerfile:2: COPY --from=nostage: no stage before this one is named nostage"),
        ("FROM scratch AS s\nFROM scratch\nCOPY --from=s /missing /y\n", "Dockerfile:3: COPY source \"missing\" not found in stage s"),
        ("FROM scratch AS s\nFROM scratch\nCOPY --from=s --chown=nobody / /y\n", "Dockerfile:3: COPY --chown=nobody: user nobody not found"),
        ("FROM nostage\n", "Dockerfile:1: FROM image nostage: not found in the local store"),
        ("FROM scratch\nUSER nobody\nRUN id\n", "Dockerfile:3: RUN id: failed to find user \"nobody\""),
    ])
    func copyFromErrorsNameLine(dockerfile: String, message: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try dockerfile.write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)

        let result = try runCrib(["build", "--root", directory + "/root", "-t", "broken", "."], in: directory)
        #expect(result.status == 125)
        #expect(result.stderr.contains("crib: " + message), "stderr: \(result.stderr)")
        let images = try runCrib(["images", "--root", directory + "/root"], in: directory)
        #expect(!images.stdout.contains("broken"), "images: \(images.stdout)")
    }
}
