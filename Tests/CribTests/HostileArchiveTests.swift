import Foundation
import OCI
import Testing

/// OCI archives that lie about their blobs: sizes, digests, missing and oversized objects,
/// malformed JSON. Each `crib load` must fail with one line naming the object and leave the
/// store as it was: the same index.json, and `crib check` finds nothing wrong.
@Suite("hostile archives")
struct HostileArchiveTests {
    enum Lie: String, CaseIterable, Sendable {
        case layerContentDiffers
        case layerSizeUnderstated
        case layerSizeOverstated
        case layerMissing
        /// The layer is in the store already, so only its size in the manifest can lie.
        case presentLayerSizeUnderstated
        case configMalformed
        case configOversized
        case configMissingDiffIDs
        case manifestDigestNotHex
        case manifestOversized
        case manifestMissing
        case indexMalformed
    }

    /// The text the error must contain for each lie, besides "crib:".
    static func expectedMessage(_ lie: Lie, layout: Layout) -> String {
        switch lie {
        case .layerContentDiffers: "digest mismatch in blob \(layout.layer)"
        case .layerSizeUnderstated, .layerSizeOverstated, .presentLayerSizeUnderstated: "size mismatch in blob \(layout.layer)"
        case .layerMissing: "missing blob \(layout.layer)"
        case .configMalformed: "malformed JSON"
        case .configOversized, .manifestOversized: "is too large"
        case .configMissingDiffIDs: "it lists 1 layers but its config has 0 diffIDs"
        case .manifestDigestNotHex: "invalid digest \"sha256:../../etc/passwd\""
        case .manifestMissing: "missing blob \(layout.manifest)"
        case .indexMalformed: "index.json"
        }
    }

    @Test("archive lie rejected, store unchanged", arguments: Lie.allCases)
    func lieRejected(lie: Lie) throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "before")
        if lie == .presentLayerSizeUnderstated {
            let store = try ContentStore(root: RootDirectory(path: fixture.root))
            try store.writeBlob(Layout.layerTar, mediaType: .ociLayer)
        }
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json"))

        let layout = try Layout(directory: fixture.scratch + "/layout", lie: lie)
        let archive = fixture.scratch + "/hostile.tar"
        let tar = try CribFixture.execute("tar", ["-cf", archive, "-C", layout.directory, "."])
        #expect(tar.status == 0, "\(tar.stderr)")

        let load = try fixture.crib(["load", "-i", archive])
        #expect(load.status == 125)
        let message = Self.expectedMessage(lie, layout: layout)
        #expect(load.stderr.contains(message), "expected \"\(message)\" in: \(load.stderr)")
        #expect(load.stderr.split(separator: "\n").filter { $0.hasPrefix("crib:") }.count == 1, "\(load.stderr)")

        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json")) == indexBefore)
        let check = try fixture.crib(["check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(try fixture.crib(["inspect", "hostile"]).status != 0)
    }

    @Test("honest archive loads")
    func honestArchiveLoads() throws {
        let fixture = try CribFixture()
        let layout = try Layout(directory: fixture.scratch + "/layout", lie: nil)
        let archive = fixture.scratch + "/honest.tar"
        #expect(try CribFixture.execute("tar", ["-cf", archive, "-C", layout.directory, "."]).status == 0)
        let load = try fixture.crib(["load", "-i", archive])
        #expect(load.status == 0, "\(load.stderr)")
        let unpacked = fixture.scratch + "/tree"
        #expect(try fixture.crib(["unpack", "hostile", unpacked]).status == 0)
        #expect(try String(contentsOfFile: unpacked + "/hostile", encoding: .utf8) == "hostile\n")
    }

    /// Tar headers that claim more than the archive holds, or more than any header needs.
    enum Enormous: String, CaseIterable, Sendable {
        case paxHeaderOf4GiB
        case gnuLongNameOf1GiB
        case fileOf1EiB
        case paxRecordsOf16MiB
    }

    @Test("enormous tar header rejected", arguments: Enormous.allCases)
    func enormousHeaderRejected(kind: Enormous) throws {
        let fixture = try CribFixture()
        try writeSampleImage(root: fixture.root, name: "before")
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json"))

        var tar = Data()
        switch kind {
        case .paxHeaderOf4GiB:
            tar.append(ustarHeader(name: "PaxHeader", size: 4 << 30, type: "x"))
            tar.append(Data("30 path=\(String(repeating: "a", count: 100))\n".utf8))
        case .gnuLongNameOf1GiB:
            tar.append(ustarHeader(name: "././@LongLink", size: 1 << 30, type: "L"))
            tar.append(Data(repeating: 0x61, count: 4096))
        case .fileOf1EiB:
            tar.append(ustarHeader(name: "big", size: 1 << 60, type: "0"))
            tar.append(Data(repeating: 0x78, count: 512))
        case .paxRecordsOf16MiB:
            let record = Data("1013 comment=\(String(repeating: "a", count: 999))\n".utf8)
            var records = Data()
            while records.count < 16 << 20 { records.append(record) }
            tar.append(ustarHeader(name: "PaxHeader", size: records.count, type: "x"))
            tar.append(records)
            tar.append(Data(count: (512 - records.count % 512) % 512))
            tar.append(ustarHeader(name: "file", size: 0, type: "0"))
            tar.append(Data(count: 1024))
        }
        let path = fixture.scratch + "/enormous.tar"
        try tar.write(to: URL(fileURLWithPath: path))

        let result = try fixture.crib(["import", path, "enormous"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("failed to read a tar header from \(path)"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/store/index.json")) == indexBefore)
        #expect(try fixture.crib(["check"]).status == 0)
    }

    /// An OCI image layout with one image named `hostile`, written by hand so that each lie
    /// is exactly the one intended.
    struct Layout {
        let directory: String
        let layer: Digest
        let manifest: Digest

        init(directory: String, lie: Lie?) throws {
            self.directory = directory
            let blobs = directory + "/blobs/sha256"
            try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
            func put(_ data: Data) throws -> Digest {
                let digest = Digest.sha256(data)
                try data.write(to: URL(fileURLWithPath: blobs + "/" + digest.encoded))
                return digest
            }

            let tar = Self.layerTar
            layer = try put(tar)
            var layerSize = tar.count
            switch lie {
            case .layerContentDiffers:
                var altered = tar
                altered[600] ^= 0xff
                try altered.write(to: URL(fileURLWithPath: blobs + "/" + layer.encoded))
            case .layerSizeUnderstated, .presentLayerSizeUnderstated: layerSize -= 100
            case .layerSizeOverstated: layerSize += 100
            case .layerMissing: try FileManager.default.removeItem(atPath: blobs + "/" + layer.encoded)
            default: break
            }

            var diffIDs = [layer.description]
            if lie == .configMissingDiffIDs { diffIDs = [] }
            var environment = ["PATH=/bin"]
            // Past the 8 MiB that crib reads of any JSON object.
            if lie == .configOversized { environment.append("PAD=" + String(repeating: "a", count: 9 << 20)) }
            var config = Data(
                """
                {"architecture":"amd64","os":"linux","config":{"Env":\(Self.json(environment))},\
                "rootfs":{"type":"layers","diff_ids":\(Self.json(diffIDs))}}
                """.utf8)
            if lie == .configMalformed { config = Data(#"{"architecture":"amd64","os":"#.utf8) }
            let configDigest = try put(config)

            let layerDigest = lie == .manifestDigestNotHex ? "sha256:../../etc/passwd" : layer.description
            var annotations = ""
            if lie == .manifestOversized { annotations = #","annotations":{"pad":"\#(String(repeating: "a", count: 9 << 20))"}"# }
            let manifestData = Data(
                """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
                "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(configDigest)","size":\(config.count)},\
                "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(layerDigest)","size":\(layerSize)}]\
                \(annotations)}
                """.utf8)
            manifest = try put(manifestData)
            if lie == .manifestMissing { try FileManager.default.removeItem(atPath: blobs + "/" + manifest.encoded) }

            var index =
                """
                {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
                "digest":"\(manifest)","size":\(manifestData.count),\
                "annotations":{"org.opencontainers.image.ref.name":"hostile"}}]}
                """
            if lie == .indexMalformed { index = #"{"schemaVersion":2,"manifests":[{"digest":"#  }
            try Data(index.utf8).write(to: URL(fileURLWithPath: directory + "/index.json"))
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))
        }

        /// Differs from the layer of `writeSampleImage`, so that the store does not contain it.
        static let layerTar = tarArchive(name: "hostile", content: Data("hostile\n".utf8))

        static func json(_ strings: [String]) -> String {
            "[" + strings.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        }
    }
}
