import Foundation
import Testing

@testable import OCI

struct CanonicalJSONTests {
    @Test func keysSortedAndSlashesKept() throws {
        var config = ImageConfig(platform: Platform(architecture: "amd64", os: "linux"))
        config.config?.env = ["PATH=/usr/bin:/bin"]
        config.config?.exposedPorts = ["9080/tcp": EmptyObject()]
        config.created = "2026-01-01T00:00:00Z"
        let text = String(decoding: try CanonicalJSON.encode(config), as: UTF8.self)
        #expect(text.contains(#""Env":["PATH=/usr/bin:/bin"]"#))
        #expect(text.contains(#""ExposedPorts":{"9080/tcp":{}}"#))
        #expect(!text.contains("\\/"))
        #expect(!text.contains("\n"))
        let architecture = try #require(text.range(of: "\"architecture\""))
        let created = try #require(text.range(of: "\"created\""))
        #expect(architecture.lowerBound < created.lowerBound)
    }

    @Test func equalContentEqualDigest() throws {
        var first = ContainerConfig()
        first.labels = ["b": "2", "a": "1", "c": "ü"]
        var second = ContainerConfig()
        second.labels = ["c": "ü", "a": "1", "b": "2"]
        #expect(Digest.sha256(try CanonicalJSON.encode(first)) == Digest.sha256(try CanonicalJSON.encode(second)))
    }

    @Test func dockerConfigDecodes() throws {
        // The shape `docker save` writes: extra top-level keys, nulls, Docker-only fields.
        let json = """
            {"architecture":"amd64","os":"linux","docker_version":"24.0.7","container":"abc",
             "container_config":{"Hostname":"abc","Cmd":["/bin/sh"]},
             "config":{"Hostname":"","User":"1001","Env":["A=1"],"Cmd":null,"Entrypoint":["/init"],
                       "Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},"OnBuild":null,
                       "Labels":null,"ArgsEscaped":true,"StopSignal":"SIGTERM","Shell":["/bin/bash","-c"]},
             "created":"2024-02-01T12:34:56.123456789Z",
             "history":[{"created":"2024-02-01T12:34:56Z","created_by":"/bin/sh -c #(nop) CMD","empty_layer":true}],
             "rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]},
             "unknown_future_field":{"x":[1,2,3]}}
            """
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Data(json.utf8), source: "test")
        #expect(config.config?.user == "1001")
        #expect(config.config?.cmd == nil)
        #expect(config.config?.entrypoint == ["/init"])
        #expect(config.config?.healthcheck?.interval == 30_000_000_000)
        #expect(config.config?.shell == ["/bin/bash", "-c"])
        #expect(config.rootfs.diffIDs.count == 1)
        #expect(config.history?.first?.emptyLayer == true)
        #expect(Timestamp.parse(try #require(config.created)) != nil)
    }

    @Test func malformedJSONNamesSourceAndKey() {
        let json = #"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:nothex","size":1}]}"#
        do {
            _ = try CanonicalJSON.decode(Index.self, from: Data(json.utf8), source: "/store/index.json")
            Issue.record("decoding succeeded")
        } catch {
            let message = "\(error)"
            #expect(message.contains("/store/index.json"))
            #expect(message.contains("sha256:nothex"))
        }
    }
}
