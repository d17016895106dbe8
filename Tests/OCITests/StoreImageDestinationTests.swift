import Foundation
import OCI
import Testing

struct StoreImageDestinationTests {
    /// A source store holding a one-layer image, and a destination root, in a temporary directory.
    struct Setup {
        let directory: TemporaryDirectory
        let source: StoreImageSource
        let image: StoredImage
        let root: RootDirectory

        init() throws {
            directory = try TemporaryDirectory()
            let store = try ContentStore(root: RootDirectory(path: directory.path + "/source"))
            let layer = try store.writeBlob(Data("shared layer \(UUID())".utf8), mediaType: .ociLayer)
            image = try store.commitImage(config: ImageConfig(diffIDs: [layer.digest]), layers: [layer], names: ["shared"])
            source = StoreImageSource(store: store, image: image)
            root = RootDirectory(path: directory.path + "/root")
        }

        var layer: Descriptor { image.manifest.layers[0] }
    }

    /// Two copies into one root through separate stores, as two crib processes do: the first
    /// stores the layer and fails, while the second found the layer present and names its image.
    @Test func abortKeepsBlobAnotherCopyNamed() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let failing = StoreImageDestination(store: try ContentStore(root: setup.root), names: ["failing"])
        let other = StoreImageDestination(store: try ContentStore(root: setup.root), names: ["other"])

        guard case .missing = try failing.existingBlob(setup.layer) else {
            Issue.record("the layer was in the new store already")
            return
        }
        try failing.putBlob(setup.layer, from: setup.source, progress: nil)
        guard case .present = try other.existingBlob(setup.layer) else {
            Issue.record("the second copy did not find the layer the first stored")
            return
        }
        try other.putBlob(setup.image.manifest.config, from: setup.source, progress: nil)
        try other.putManifest(try setup.source.manifest(for: Platform(architecture: "amd64", os: "linux")))
        failing.abort()

        let store = try ContentStore(root: setup.root)
        #expect(store.hasBlob(setup.layer.digest), "the failed copy removed a layer the other image uses")
        let report = try store.check(repair: false)
        #expect(report.isSound, "\(report.problems)")
    }

    @Test func abortRemovesItsBlobsWhenAlone() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let failing = StoreImageDestination(store: try ContentStore(root: setup.root), names: ["failing"])
        try failing.putBlob(setup.layer, from: setup.source, progress: nil)
        failing.abort()
        #expect(!(try ContentStore(root: setup.root)).hasBlob(setup.layer.digest))
    }
}
