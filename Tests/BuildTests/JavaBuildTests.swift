import Foundation
import Layering
import OCI
import Testing

@testable import Build

/// Builds a Java program in two stages: a JDK stage compiles it, a JRE stage copies the class
/// files with `COPY --from` and runs them, and `crib run` runs the image. The JDK and JRE
/// images are made with jlink from the host's OpenJDK 17 on top of busybox and the host's
/// glibc, so nothing is downloaded.
struct JavaBuildTests {
    static let hostJDK = "/usr/lib/jvm/java-17-openjdk-amd64"
    static let libraries = [
        "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib/x86_64-linux-gnu/libdl.so.2", "/lib/x86_64-linux-gnu/libpthread.so.0", "/lib/x86_64-linux-gnu/librt.so.1",
    ]

    /// Stores an image named `name`: busybox, glibc and a jlink runtime with `modules` in /opt/java.
    static func makeJavaImage(_ name: String, modules: String, fixture: BuildFixture) throws {
        guard FileManager.default.isExecutableFile(atPath: hostJDK + "/bin/jlink") else {
            throw BuildError.invalidOption("this test needs \(hostJDK)/bin/jlink (Debian package openjdk-17-jdk-headless)")
        }
        let rootfs = fixture.directory + "/\(name)-rootfs"
        for directory in ["bin", "etc", "lib64", "lib/x86_64-linux-gnu", "opt", "tmp"] {
            try FileManager.default.createDirectory(atPath: rootfs + "/" + directory, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
        for applet in ["sh", "cat", "ls", "mkdir", "test"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        for library in libraries {
            try FileManager.default.copyItem(atPath: URL(fileURLWithPath: library).resolvingSymlinksInPath().path, toPath: rootfs + library)
        }
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)

        let jlink = Process()
        jlink.executableURL = URL(fileURLWithPath: hostJDK + "/bin/jlink")
        jlink.arguments = ["--add-modules", modules, "--output", rootfs + "/opt/java", "--strip-debug", "--no-header-files", "--no-man-pages"]
        try jlink.run()
        jlink.waitUntilExit()
        guard jlink.terminationStatus == 0 else { throw BuildError.invalidOption("jlink failed with status \(jlink.terminationStatus)") }

        let store = try ContentStore(root: fixture.root)
        let blob = try store.beginBlob()
        let writer = try LayerWriter(sink: blob, options: LayerWriter.Options(compression: .zstd, timestamp: 0))
        try writer.addTree(at: rootfs)
        let layer = try writer.finish()
        let descriptor = try blob.commit(mediaType: layer.mediaType, expected: layer.digest)
        var container = ContainerConfig()
        container.env = ["PATH=/opt/java/bin:/bin", "JAVA_HOME=/opt/java"]
        var config = ImageConfig(platform: .current, config: container, diffIDs: [layer.diffID])
        config.created = "1970-01-01T00:00:00Z"
        config.history = [History(created: config.created, createdBy: "jlink --add-modules \(modules)")]
        _ = try store.commitImage(config: config, layers: [descriptor], names: [name])
    }

    @Test func jdkStageCompilesJreStageRuns() throws {
        let fixture = try BuildFixture()
        try Self.makeJavaImage("jdk", modules: "jdk.compiler", fixture: fixture)
        try Self.makeJavaImage("jre", modules: "java.base", fixture: fixture)
        try fixture.write("src/hello/Hello.java", """
            package hello;

            public class Hello {
                public static void main(String[] arguments) {
                    System.out.println("Hello from " + System.getProperty("java.specification.version"));
                }
            }
            """)
        let dockerfile = """
            FROM jdk AS build
            WORKDIR /build
            COPY src/ src/
            RUN javac -d /classes src/hello/Hello.java

            FROM jre
            COPY --from=build /classes/ /app/
            RUN java -cp /app hello.Hello > /app/output.txt
            CMD ["java", "-cp", "/app", "hello.Hello"]
            """
        let result = try fixture.build(dockerfile, tags: ["hello-java"])
        let layers = result.image.manifest.layers
        #expect(layers.count == 3)
        #expect(try fixture.listLayer(layers[1]).contains("-rw-r--r-- 0/0 app/hello/Hello.class"))
        #expect(try fixture.readFile(layers[2], "app/output.txt") == "Hello from 17\n")
        #expect(result.image.config.config?.cmd == ["java", "-cp", "/app", "hello.Hello"])
        #expect(result.image.config.config?.env == ["PATH=/opt/java/bin:/bin", "JAVA_HOME=/opt/java"])

        let run = try fixture.runCrib(["run", "--rm", "hello-java"])
        #expect(run.status == 0)
        #expect(run.stdout == "Hello from 17\n")
    }
}
