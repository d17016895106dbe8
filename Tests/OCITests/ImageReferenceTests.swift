import Testing

@testable import OCI

struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
        ("index.docker.io/user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("quay.io/org/app:2", "quay.io/org/app:2", "quay.io/org/app:2"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("127.0.0.1:5000/a/b/c:x_y-z.1", "127.0.0.1:5000/a/b/c:x_y-z.1", "127.0.0.1:5000/a/b/c:x_y-z.1"),
        ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
        ("[::1]:5000/app:t", "[::1]:5000/app:t", "[::1]:5000/app:t"),
        ("my__app/a-b--c.d", "docker.io/my__app/a-b--c.d:latest", "my__app/a-b--c.d:latest"),
        (
            "busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "docker.io/library/busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ),
    ])
    func normalisesLikeDocker(text: String, full: String, familiar: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.description == full)
        #expect(reference.familiar == familiar)
    }

    @Test(arguments: [
        ("app", "localhost/app:latest"),
        ("ping-application:v2", "localhost/ping-application:v2"),
        ("team/app", "localhost/team/app:latest"),
        ("quay.io/org/app", "quay.io/org/app:latest"),
    ])
    func localNamesGoUnderLocalhost(text: String, full: String) throws {
        #expect(try ImageReference(local: text).description == full)
    }

    @Test(arguments: [
        "", "Busybox", "busybox:", "busybox:-tag", "a//b", "a/-b", "app:" + String(repeating: "t", count: 129),
        "app@sha256:short", "a..b", "a___b", "host:port/app", "_app",
    ])
    func invalidNameRejected(text: String) {
        #expect(throws: OCIError.self) { try ImageReference(parsing: text) }
        do {
            _ = try ImageReference(parsing: text)
        } catch {
            #expect("\(error)".contains("\"\(text)\""))
        }
    }

    @Test(arguments: [
        ("oci:/tmp/layout", TransportReference.ociLayout(path: "/tmp/layout", reference: nil)),
        ("oci:/tmp/layout:app:v1", .ociLayout(path: "/tmp/layout", reference: "app:v1")),
        ("oci-archive:out.tar:latest", .ociArchive(path: "out.tar", reference: "latest")),
        ("docker-archive:/x/img.tar", .dockerArchive(path: "/x/img.tar", reference: nil)),
        ("docker-archive:/x/img.tar:busybox:1", .dockerArchive(path: "/x/img.tar", reference: "busybox:1")),
        ("app:v1", .store("app:v1")),
        ("containers-storage:app", .store("app")),
    ])
    func transportsParseLikeSkopeo(text: String, expected: TransportReference) throws {
        #expect(try TransportReference(parsing: text) == expected)
    }

    @Test func registryTransportNormalises() throws {
        let parsed = try TransportReference(parsing: "docker://127.0.0.1:5000/app:1")
        #expect(parsed == .registry(try ImageReference(parsing: "127.0.0.1:5000/app:1")))
        #expect(parsed.description == "docker://127.0.0.1:5000/app:1")
    }

    @Test(arguments: ["oci:", "ftp://host/app", "dir:/tmp/x"])
    func badTransportRejected(text: String) {
        #expect(throws: OCIError.self) { try TransportReference(parsing: text) }
    }
}
