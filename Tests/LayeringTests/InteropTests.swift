import Foundation
import OCI
import Testing

@testable import Layering

/// Returns the blob paths of the layers of image `tag` in the OCI layout `layout`, base first.
func layerPaths(layout: String, tag: String) throws -> [String] {
    let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))) as! [String: Any]
    let manifests = index["manifests"] as! [[String: Any]]
    let entry = try #require(manifests.first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag })
    let manifestDigest = try Digest(parsing: entry["digest"] as! String)
    let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + manifestDigest.encoded))) as! [String: Any]
    return try (manifest["layers"] as! [[String: Any]]).map { layout + "/blobs/sha256/" + (try Digest(parsing: $0["digest"] as! String)).encoded }
}

@Suite("umoci and skopeo interop", .serialized)
struct InteropTests {
    @Test("umoci unpacks a crib layer to the same tree")
    func umociUnpacksCribLayer() throws {
        try requireRoot()
        try requireTools("umoci", "skopeo", "setcap")
        let work = try TemporaryDirectory("umoci")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("source"), withIntermediateDirectories: true)
        try makeEveryEntryTree(at: work.sub("source"))
        // A PAX record with an empty value unsets the keyword. Go's archive/tar, and with it
        // umoci, therefore reads an empty xattr as absent, while libarchive and crib keep it.
        try shell("setfattr -x user.empty \(work.sub("source"))/dir/sub")

        let store = try ContentStore(root: RootDirectory(path: work.sub("root")))
        for compression in [LayerCompression.gzip, .zstd] {
            let blob = try store.beginBlob()
            let writer = try LayerWriter(sink: blob, options: .init(compression: compression))
            try writer.addTree(at: work.sub("source"))
            let result = try writer.finish()
            let layer = try blob.commit(mediaType: result.mediaType, expected: result.digest)
            let config = ImageConfig(diffIDs: [result.diffID])
            let image = try store.commitImage(config: config, layers: [layer], names: ["interop:\(compression.rawValue)"])

            // umoci 0.4.7 cannot read zstd layers, so only gzip goes through it.
            if compression == .gzip {
                try shell("umoci unpack --image \(work.sub("root"))/store:localhost/interop:gzip \(work.sub("bundle"))")
                #expect(try listing(work.sub("bundle") + "/rootfs") == listing(work.sub("source")))
            }

            try shell("skopeo copy oci:\(work.sub("root"))/store:localhost/interop:\(compression.rawValue) oci:\(work.sub("copy")):x")
            let copied = try layerPaths(layout: work.sub("copy"), tag: "x")
            #expect(copied.map { URL(fileURLWithPath: $0).lastPathComponent } == [layer.digest.encoded])
            let index = try String(contentsOfFile: work.sub("copy") + "/index.json", encoding: .utf8)
            #expect(index.contains(image.digest.encoded))
            try shell("rm -rf \(work.sub("copy"))")
        }
    }

    @Test("crib unpacks umoci layers with whiteouts")
    func cribUnpacksUmociLayers() throws {
        try requireRoot()
        try requireTools("umoci")
        let work = try TemporaryDirectory("umocilayers")
        defer { work.remove() }
        let layout = work.sub("layout")
        try shell(
            """
            set -e
            cd \(work.path)
            umoci init --layout layout
            umoci new --image layout:img
            umoci unpack --image layout:img one
            mkdir -p one/rootfs/a/sub one/rootfs/c one/rootfs/opaque/old
            printf 'x\\n' > one/rootfs/a/x; printf 'y\\n' > one/rootfs/a/sub/y; printf 'b\\n' > one/rootfs/b
            printf 'd\\n' > one/rootfs/c/d; printf 'old\\n' > one/rootfs/opaque/old/file
            ln one/rootfs/b one/rootfs/b-link; ln -s a/x one/rootfs/x-link
            setfattr -n user.kept -v yes one/rootfs/a/x
            umoci repack --image layout:img one
            rm -rf one
            umoci unpack --image layout:img two
            rm two/rootfs/b two/rootfs/a/x
            rm -r two/rootfs/c
            printf 'new\\n' > two/rootfs/new
            umoci repack --image layout:img two
            mkdir -p replacement/inner && printf 'fresh\\n' > replacement/inner/file
            umoci insert --image layout:img --opaque replacement /opaque
            umoci insert --image layout:img --whiteout /x-link
            umoci unpack --image layout:img expected
            """)
        let layers = try layerPaths(layout: layout, tag: "img")
        #expect(layers.count == 4)
        let whiteouts = try shell("for l in \(layers.joined(separator: " ")); do tar -tzf $l; done")
        #expect(whiteouts.contains(".wh.b"))
        #expect(whiteouts.contains(".wh..wh..opq"))

        try FileManager.default.createDirectory(atPath: work.sub("crib"), withIntermediateDirectories: true)
        for layer in layers { _ = try unpack(layer, into: work.sub("crib")) }
        #expect(try listing(work.sub("crib")) == listing(work.sub("expected") + "/rootfs"))
        #expect(try shell("ls \(work.sub("crib"))/opaque") == "inner\n")
    }
}
