import Foundation
import OCI
import Runner

struct CheckpointCommand: Command {
    static let name = "checkpoint"
    static let abstract = "Run an image until it is checkpointed, and save the CRIU images as a new image"
    static let usage = "checkpoint [OPTIONS] IMAGE -t NEW"
    static let options: [OptionSpec] = [
        .value("tag", short: "t", "NEW", help: "name the checkpoint image NEW (required)"),
        .repeated("env", short: "e", "KEY=VALUE", help: "set a variable for this run only; NEW's config does not keep it"),
        .value("timeout", "SECONDS", help: "give up after SECONDS (default 300)"),
        .value("trigger", "KIND:VALUE", help: "crib dumps the app once http:URL answers 2xx, tcp:PORT accepts, log:REGEX matches a line or file:PATH exists"),
        .value("warmup", "N", help: "after the trigger: N more requests to the http URL, or N seconds for other triggers"),
    ]

    let global: GlobalOptions
    let options: Checkpointer.Options

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...1)
        self.global = global
        guard let tag = arguments.value("tag") else {
            throw UsageError("checkpoint needs -t NEW, the name of the image to write", command: Self.name)
        }
        _ = try ImageReference(local: tag)
        var options = Checkpointer.Options(image: arguments.positionals[0], tag: tag)
        options.environment = arguments.values("env")
        for entry in options.environment where !entry.contains("=") {
            throw UsageError("--env \(entry): expected KEY=VALUE", command: Self.name)
        }
        if let text = arguments.value("timeout") {
            guard let seconds = Double(text), seconds > 0 else {
                throw UsageError("invalid --timeout \"\(text)\": expected a number of seconds above 0", command: Self.name)
            }
            options.timeout = seconds
        }
        if let text = arguments.value("trigger") { options.trigger = try CheckpointTrigger(parsing: text) }
        if let text = arguments.value("warmup") {
            guard let count = Int(text), count >= 0 else {
                throw UsageError("invalid --warmup \"\(text)\": expected a whole number", command: Self.name)
            }
            guard options.trigger != nil else {
                throw UsageError("--warmup needs --trigger", command: Self.name)
            }
            options.warmup = count
        }
        self.options = options
    }

    func run() throws -> Int32 {
        let store = try global.openStore()
        try store.holdForWriting()
        let started = Date()
        let (image, record) = try Checkpointer(store: store, log: global.log).checkpoint(options)
        let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
        global.log.log(
            .info,
            "checkpoint (\(record.method.rawValue)) of \(options.image) in \(record.imagesDirectory), criu \(record.criuVersion), \(seconds) s")
        print(image.id.description)
        return 0
    }
}
