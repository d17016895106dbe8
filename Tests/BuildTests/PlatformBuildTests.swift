import Foundation
import Layering
import OCI
import Testing

@testable import Build

/// FROM `--platform`, the build's platform and the platform ARGs, against an OCI layout
/// whose index has the host's busybox and a one-file image for another CPU.
@Suite(.serialized)
struct PlatformBuildTests {
    /// A CPU that no test host is, so that its image can only come from the index entry.
    static let foreign = Platform(architecture: "riscv64", os: "linux")

    /// Writes an OCI layout at `path` whose one entry, `multi`, is an index of the fixture's
    /// busybox for the host and a one-file image for `foreign`. Returns the diffID of the
    /// foreign image's layer.
    static func makeMultiPlatformLayout(_ fixture: BuildFixture, at path: String) throws -> Digest {
        let store = try ContentStore(root: fixture.root)
        let tree = fixture.directory + "/foreign-tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try "riscv64\n".write(toFile: tree + "/arch.txt", atomically: false, encoding: .utf8)
        let blob = try store.beginBlob()
        let writer = try LayerWriter(sink: blob, options: LayerWriter.Options(compression: .gzip, timestamp: 0))
        try writer.addTree(at: tree)
        let layer = try writer.finish()
        let descriptor = try blob.commit(mediaType: layer.mediaType, expected: layer.digest)
        var config = ImageConfig(platform: foreign, config: ContainerConfig(), diffIDs: [layer.diffID])
        config.created = "1970-01-01T00:00:00Z"
        _ = try store.commitImage(config: config, layers: [descriptor], names: ["foreign-only"])

        let endpoints = TransferEndpoints(store: store) { _ in .init() }
        for name in ["busybox", "foreign-only"] {
            let reference = try TransportReference(parsing: "oci:\(path):\(name)")
            _ = try ImageCopier().copy(from: try endpoints.source(.store(name)), to: try endpoints.destination(reference))
        }

        // Replace the two named entries with one index that lists both by platform.
        let indexPath = path + "/index.json"
        let layout = try CanonicalJSON.decode(
            Index.self, from: try Data(contentsOf: URL(fileURLWithPath: indexPath)), source: indexPath)
        var manifests = [Descriptor]()
        for entry in layout.manifests {
            var manifest = entry
            let name = entry.annotations?[AnnotationKey.refName] ?? ""
            manifest.platform = name.hasSuffix("foreign-only") ? foreign : Platform.current
            manifest.annotations = nil
            manifests.append(manifest)
        }
        #expect(manifests.count == 2)
        let nested = try CanonicalJSON.encode(Index(manifests: manifests))
        let digest = Digest.sha256(nested)
        try nested.write(to: URL(fileURLWithPath: path + "/blobs/sha256/" + digest.encoded))
        let top = Index(manifests: [
            Descriptor(
                mediaType: .ociIndex, digest: digest, size: Int64(nested.count), annotations: [AnnotationKey.refName: "multi"])
        ])
        try CanonicalJSON.encode(top).write(to: URL(fileURLWithPath: indexPath))
        return layer.diffID
    }

    @Test func fromPlatformPicksIndexEntry() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let layout = fixture.directory + "/multi"
        let foreignDiffID = try Self.makeMultiPlatformLayout(fixture, at: layout)
        let hostDiffID = try ContentStore(root: fixture.root).image("busybox").config.rootfs.diffIDs[0]
        try fixture.write("hello.txt", "hello\n")

        let picked = try fixture.build("FROM --platform=linux/riscv64 oci:\(layout):multi\nCOPY hello.txt /\n")
        #expect(picked.image.config.rootfs.diffIDs.count == 2)
        #expect(picked.image.config.rootfs.diffIDs[0] == foreignDiffID)
        #expect(picked.image.config.architecture == "riscv64")

        // The build's --platform is the default for a FROM without one.
        let byDefault = try fixture.build(
            "FROM oci:\(layout):multi\nCOPY hello.txt /\n", tags: ["by-default"], options: BuildOptions(platform: Self.foreign))
        #expect(byDefault.image.config.rootfs.diffIDs[0] == foreignDiffID)
        #expect(byDefault.image.config.architecture == "riscv64")

        let host = try fixture.build("FROM oci:\(layout):multi\nCOPY hello.txt /\n", tags: ["host"])
        #expect(host.image.config.rootfs.diffIDs[0] == hostDiffID)
        #expect(host.image.config.architecture == Platform.current.architecture)
        #expect(host.image.digest != picked.image.digest)
    }

    @Test func missingPlatformNamesImage() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let layout = fixture.directory + "/multi"
        _ = try Self.makeMultiPlatformLayout(fixture, at: layout)

        do {
            _ = try fixture.build("FROM --platform=linux/s390x oci:\(layout):multi\nRUN true\n")
            Issue.record("the build succeeded")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(fixture.context + "/Dockerfile:1: "), "\(message)")
            #expect(message.contains("linux/s390x"), "\(message)")
            #expect(message.contains("oci:\(layout):multi"), "\(message)")
        }

        // An image in the store has one platform, and it is not the one requested.
        do {
            _ = try fixture.build("FROM --platform=linux/riscv64 busybox\nRUN true\n")
            Issue.record("the build succeeded")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(fixture.context + "/Dockerfile:1: FROM image busybox: "), "\(message)")
            #expect(message.contains("not linux/riscv64"), "\(message)")
        }
    }

    /// Without any platform asked for, a store image of another platform is used, as podman
    /// does; with `--platform` or FROM `--platform` it is an error.
    @Test func foreignStoreImageUsedUnlessPlatformGiven() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let foreign = Platform(architecture: "riscv64", os: "linux")

        let implicit = try fixture.build("FROM busybox\nLABEL built=yes\n", options: BuildOptions(platform: foreign))
        #expect(implicit.image.config.config?.labels?["built"] == "yes")

        do {
            _ = try fixture.build(
                "FROM busybox\nLABEL built=yes\n", tags: ["explicit"], options: BuildOptions(platform: foreign, platformIsExplicit: true))
            Issue.record("the build with --platform succeeded on an image of another platform")
        } catch {
            #expect("\(error)".contains("not linux/riscv64"), "\(error)")
        }
    }

    @Test func platformArgsReachRun() throws {
        let fixture = try BuildFixture()
        try fixture.makeBusyboxImage()
        let dockerfile = """
            FROM --platform=$BUILDPLATFORM busybox
            RUN echo "[$TARGETARCH]" > /undeclared.txt
            ARG TARGETPLATFORM
            ARG TARGETOS
            ARG TARGETARCH
            ARG BUILDPLATFORM
            RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH $BUILDPLATFORM" > /platform.txt
            """
        let result = try fixture.build(dockerfile, options: BuildOptions(platform: Self.foreign))
        let layers = result.image.manifest.layers
        // A platform ARG reaches RUN only after the stage declares it, as the reference describes.
        #expect(try fixture.readFile(layers[1], "undeclared.txt") == "[]\n")
        #expect(try fixture.readFile(layers[2], "platform.txt") == "linux/riscv64 linux riscv64 \(Platform.current)\n")
        // The stage runs on the build platform, so its image is for that platform.
        #expect(result.image.config.architecture == Platform.current.architecture)
    }
}
