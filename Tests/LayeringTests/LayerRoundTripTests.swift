import Foundation
import OCI
import Testing

@testable import Layering

/// Creates a tree with every entry type layers carry, owned by several users.
func makeEveryEntryTree(at root: String) throws {
    let longName = String(repeating: "long-directory-name/", count: 8) + String(repeating: "f", count: 120)
    try shell(
        """
        set -e
        cd \(root)
        mkdir -p dir/sub "$(dirname '\(longName)')"
        printf 'hello\\n' > dir/file
        head -c 3000000 /dev/urandom > dir/random
        seq 1 200000 > dir/text
        : > dir/empty
        printf 'long\\n' > '\(longName)'
        printf 'bytes\\n' > "$(printf 'name-\\xff\\xfe')"
        printf 'utf8\\n' > 'caf\u{00e9}'
        ln dir/file dir/hardlink
        ln -s ../dir/file dir/sub/relative-link
        ln -s /etc/passwd absolute-link
        mknod chardev c 1 3
        mknod blockdev b 7 0
        mkfifo fifo
        printf 'capable\\n' > capable
        setcap cap_net_admin,cap_sys_ptrace,cap_checkpoint_restore+ep capable
        setfattr -n user.note -v hello dir/file
        setfattr -n user.empty dir/sub
        printf 'suid\\n' > suid && chmod 4755 suid
        chmod 1777 dir/sub
        chmod 0750 dir
        chown 1234:5678 dir/file dir
        chown -h 42:43 absolute-link
        touch -h -d '2001-02-03 04:05:06' dir/file absolute-link fifo dir/sub dir
        """)
}

@Suite("layer round trip")
struct LayerRoundTripTests {
    static let settings: [(LayerCompression, LayerWriter.GzipEngine)] = [
        (.gzip, .libdeflate), (.gzip, .zlib), (.zstd, .libdeflate), (.none, .libdeflate),
    ]

    @Test("every entry type survives pack and unpack", arguments: settings)
    func everyEntryType(compression: LayerCompression, engine: LayerWriter.GzipEngine) throws {
        try requireRoot()
        try requireTools("setcap", "setfattr", "getcap")
        let work = try TemporaryDirectory("roundtrip")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("source"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work.sub("target"), withIntermediateDirectories: true)
        try makeEveryEntryTree(at: work.sub("source"))

        let result = try pack(
            work.sub("source"), into: work.sub("layer"), options: .init(compression: compression, gzipEngine: engine))
        let report = try unpack(work.sub("layer"), into: work.sub("target"))

        #expect(report.diffID == result.diffID)
        #expect(report.compression == compression)
        #expect(report.skippedDevices.isEmpty)
        let expected = try listing(work.sub("source"))
        let actual = try listing(work.sub("target"))
        #expect(actual == expected)
        let capability = try shell("getcap \(work.sub("target"))/capable")
        #expect(capability.contains("cap_net_admin,cap_sys_ptrace,cap_checkpoint_restore=ep"))
        let blob = try Data(contentsOf: URL(fileURLWithPath: work.sub("layer")))
        #expect(Digest.sha256(blob) == result.digest)
        #expect(Int64(blob.count) == result.size)
    }

    @Test("system tools read the compressed stream", arguments: settings)
    func systemToolsRead(compression: LayerCompression, engine: LayerWriter.GzipEngine) throws {
        let work = try TemporaryDirectory("tools")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("source")) && cd \(work.sub("source")) && seq 1 2000000 > numbers && head -c 5000000 /dev/urandom > random")
        let result = try pack(work.sub("source"), into: work.sub("layer"), options: .init(compression: compression, gzipEngine: engine))
        let decoder = ["gzip": "gzip -dc", "zstd": "zstd -dc", "none": "cat"][compression.rawValue]!
        let tarDigest = try shell("\(decoder) \(work.sub("layer")) | sha256sum").prefix(64)
        #expect("sha256:\(tarDigest)" == result.diffID.description)
        let names = try shell("\(decoder) \(work.sub("layer")) | tar -tvf -")
        #expect(names.contains("numbers"))
        #expect(names.contains("random"))
    }

    @Test("same tree gives the same digests")
    func sameTreeSameDigests() throws {
        try requireRoot()
        let work = try TemporaryDirectory("determinism")
        defer { work.remove() }
        try FileManager.default.createDirectory(atPath: work.sub("source"), withIntermediateDirectories: true)
        try makeEveryEntryTree(at: work.sub("source"))
        let timestamp: Int64 = 1_000_000_000

        for compression in [LayerCompression.gzip, .zstd] {
            for engine in [LayerWriter.GzipEngine.zlib, .libdeflate] {
                let first = try pack(
                    work.sub("source"), into: work.sub("one"),
                    options: .init(compression: compression, gzipEngine: engine, timestamp: timestamp, threads: 1))
                try shell("touch \(work.sub("source"))/dir/random")
                let second = try pack(
                    work.sub("source"), into: work.sub("two"),
                    options: .init(compression: compression, gzipEngine: engine, timestamp: timestamp, threads: 7))
                #expect(first == second)
            }
        }
    }

    @Test("mtimes later than the timestamp are clamped")
    func mtimesClamped() throws {
        let work = try TemporaryDirectory("clamp")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("source")) \(work.sub("target")) && cd \(work.sub("source")) && touch new && touch -d '1990-01-01' old")
        _ = try pack(work.sub("source"), into: work.sub("layer"), options: .init(timestamp: 700_000_000))
        _ = try unpack(work.sub("layer"), into: work.sub("target"))
        let new = try TreeWalker.lstatus(Array((work.sub("target") + "/new").utf8))
        let old = try TreeWalker.lstatus(Array((work.sub("target") + "/old").utf8))
        #expect(new.st_mtim.tv_sec == 700_000_000)
        #expect(old.st_mtim.tv_sec == 631_152_000)
    }

    @Test("parallel gzip matches zlib's stream for any thread count")
    func parallelGzipDecodes() throws {
        let work = try TemporaryDirectory("gzip")
        defer { work.remove() }
        try shell("head -c 3500000 /dev/urandom | base64 > \(work.sub("input"))")
        let input = try Data(contentsOf: URL(fileURLWithPath: work.sub("input")))
        var outputs = [Data]()
        for threads in [1, 2, 5] {
            let sink = try FileSink(path: work.sub("out\(threads).gz"))
            let gzip = ParallelGzipSink(output: sink, level: 6, engine: .zlib, threads: threads)
            // Uneven chunk sizes, so that blocks never line up with writes.
            var offset = 0
            var chunk = 1
            while offset < input.count {
                let end = min(input.count, offset + chunk)
                try input[offset..<end].withUnsafeBytes { try gzip.write($0) }
                offset = end
                chunk = chunk * 3 + 7
            }
            try gzip.finish()
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: work.sub("out\(threads).gz"))))
            try shell("gzip -t \(work.sub("out\(threads).gz")) && cmp <(gzip -dc \(work.sub("out\(threads).gz"))) \(work.sub("input"))")
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] == outputs[2])
    }
}

@Suite("file capabilities")
struct FileCapabilityTests {
    @Test("namespaced capability packs as v2")
    func namespacedCapabilityPacksAsV2() throws {
        try requireRoot()
        try requireTools("setfattr", "getfattr", "getcap")
        let work = try TemporaryDirectory("capv3")
        defer { work.remove() }
        // Revision 3 with root uid 100000 and cap_net_admin (bit 12) permitted and effective,
        // as setcap inside a user namespace whose root is host uid 100000 stores it.
        try shell(
            "mkdir -p \(work.sub("source")) \(work.sub("target")) && printf 'x\\n' > \(work.sub("source"))/criu"
                + " && setfattr -n security.capability -v 0x0100000300100000000000000000000000000000a0860100 \(work.sub("source"))/criu")
        _ = try pack(work.sub("source"), into: work.sub("layer"))
        _ = try unpack(work.sub("layer"), into: work.sub("target"))
        let value = try shell("getfattr --absolute-names -e hex -n security.capability \(work.sub("target"))/criu")
        #expect(value.contains("security.capability=0x0100000200100000000000000000000000000000\n"), "\(value)")
        #expect(try shell("getcap \(work.sub("target"))/criu").contains("cap_net_admin=ep"))
    }

    static let cases: [(String, [UInt8], [UInt8])] = [
        (
            "v3 with root uid 100000 becomes v2",
            [0x01, 0, 0, 0x03, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xa0, 0x86, 0x01, 0x00],
            [0x01, 0, 0, 0x02, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
        ),
        (
            "v2 stays",
            [0x01, 0, 0, 0x02, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0],
            [0x01, 0, 0, 0x02, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
        ),
        (
            "v3 without effective flag",
            [0x00, 0, 0, 0x03, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 0x03, 0, 0],
            [0x00, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        ),
    ]

    @Test("capability converted to v2", arguments: cases)
    func convertedToV2(label: String, value: [UInt8], expected: [UInt8]) {
        #expect(FileCapability.portable(value) == expected, "\(label)")
    }
}

@Suite("layer writer paths")
struct LayerWriterPathTests {
    @Test("tree under prefix with owner")
    func treeUnderPrefix() throws {
        let work = try TemporaryDirectory("prefix")
        defer { work.remove() }
        try shell("mkdir -p \(work.sub("context"))/sub && printf 'a\\n' > \(work.sub("context"))/sub/a && printf 'b\\n' > \(work.sub("single"))")
        let writer = try LayerWriter(sink: try FileSink(path: work.sub("layer")), options: .init(compression: .none))
        try writer.add(LayerEntry(path: Array("app".utf8), kind: .directory, mode: 0o755))
        try writer.addTree(at: work.sub("context"), under: "/app", owner: (1001, 0))
        try writer.addFile(at: work.sub("single"), as: "/app/single", owner: (1001, 0))
        _ = try writer.finish()
        let listing = try shell("tar -tvf \(work.sub("layer")) | awk '{print $2, $6}'").split(separator: "\n")
        #expect(listing == ["0/0 app/", "1001/0 app/sub/", "1001/0 app/sub/a", "1001/0 app/single"])
    }
}
