import Foundation
import Layering
import OCI

struct ImportCommand: Command {
    static let name = "import"
    static let abstract = "Create an image from a root file system tarball or directory"
    static let usage = "import [OPTIONS] SOURCE|- [NAME]"
    static let options: [OptionSpec] = [
        .value("tag", short: "t", "NAME", help: "name the image NAME (the second argument does the same)"),
        .repeated("change", short: "c", "INSTRUCTION", help: "apply a Dockerfile ENV, CMD, ENTRYPOINT, USER, WORKDIR, EXPOSE or LABEL to the config"),
        .value("message", short: "m", "TEXT", help: "set the history comment of the layer"),
        .value("compression", "FORMAT", help: "compress the layer with gzip (default), zstd or none"),
        .value("compression-level", "LEVEL", help: "gzip level 1-12 (default 5) or zstd level 1-19 (default 3)"),
        .value("timestamp", "SECONDS", help: "clamp file times to SECONDS since the epoch and use it as the creation time (default: SOURCE_DATE_EPOCH)"),
    ]

    let source: String
    let name: String?
    let changes: [ConfigChange]
    let message: String?
    let compression: LayerCompression
    let level: Int?
    let timestamp: Int64?
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...2)
        source = arguments.positionals[0]
        name = arguments.value("tag") ?? (arguments.positionals.count > 1 ? arguments.positionals[1] : nil)
        changes = try arguments.values("change").map { try ConfigChange(parsing: $0) }
        message = arguments.value("message")
        let format = arguments.value("compression") ?? "gzip"
        guard let compression = LayerCompression(rawValue: format) else {
            throw UsageError("invalid --compression \"\(format)\": use gzip, zstd or none", command: Self.name)
        }
        self.compression = compression
        if let text = arguments.value("compression-level") {
            let range = compression == .zstd ? 1...19 : 1...12
            guard let value = Int(text), range.contains(value) else {
                throw UsageError("invalid --compression-level \"\(text)\": expected \(range.lowerBound) to \(range.upperBound)", command: Self.name)
            }
            level = value
        } else {
            level = nil
        }
        let timestampText = arguments.value("timestamp") ?? ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"]
        if let timestampText, !timestampText.isEmpty {
            guard let value = Int64(timestampText), value >= 0 else {
                throw UsageError("invalid timestamp \"\(timestampText)\": expected seconds since the epoch", command: Self.name)
            }
            timestamp = value
        } else {
            timestamp = nil
        }
        self.global = global
    }

    func run() throws -> Int32 {
        // "-" reads the tarball from stdin, as podman import does.
        let path = source == "-" ? "/dev/stdin" : source
        var status = stat()
        guard stat(path, &status) == 0 else { throw SystemError("stat", path: source) }
        // Changes first, so that an invalid one fails before anything is written.
        var containerConfig = ContainerConfig()
        for change in changes { try change.apply(to: &containerConfig) }

        let store = try ContentStore(root: global.root, log: global.log)
        let options = LayerWriter.Options(compression: compression, level: level, timestamp: timestamp)

        let blob = try store.beginBlob()
        let result: LayerWriter.Result
        if status.st_mode & S_IFMT == S_IFDIR {
            let writer = try LayerWriter(sink: blob, options: options, log: global.log)
            try writer.addTree(at: source)
            result = try writer.finish()
        } else {
            result = try TarballLayer.recompress(try FileSource(path: path), name: source, to: blob, options: options)
        }
        let layer = try blob.commit(mediaType: result.mediaType, expected: result.digest)
        global.log.log(.debug, "layer \(result.digest) diffID \(result.diffID) size \(result.size)")

        let created = Timestamp.rfc3339(timestamp.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date())
        var config = ImageConfig(config: containerConfig, diffIDs: [result.diffID])
        config.created = created
        config.history = [History(created: created, createdBy: "crib import", comment: message)]

        let image = try store.commitImage(config: config, layers: [layer], names: name.map { [$0] } ?? [])
        print(image.id.description)
        return 0
    }
}
