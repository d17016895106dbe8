import Build
import Foundation
import OCI

struct BuildCommand: Command {
    static let name = "build"
    static let abstract = "Build an image from a Dockerfile"
    static let usage = "build [OPTIONS] [CONTEXT|-]"
    static let options: [OptionSpec] = [
        .repeated("tag", short: "t", "NAME", help: "name the image NAME[:TAG]; repeatable"),
        .value("file", short: "f", "PATH", help: "read the Dockerfile from PATH, or from standard input for - (default: CONTEXT/Containerfile, then CONTEXT/Dockerfile)"),
        .repeated("build-arg", "NAME[=VALUE]", help: "set an ARG; without a value, take it from the environment"),
        .value("target", "STAGE", help: "build the named stage and the stages it needs, not the last stage"),
        .repeated("label", "KEY=VALUE", help: "set a label on the image"),
        .flag("no-cache", help: "run every step instead of reusing cached layers"),
        .value("network", "MODE", help: "network for RUN steps: host (default), none or private"),
        .value("timestamp", "SECONDS", help: "set created times to SECONDS since the epoch and clamp later file times to it (default: SOURCE_DATE_EPOCH)"),
        .value("compression", "FORMAT", help: "layer compression: gzip (default), zstd or none"),
        .flag("dry-run", help: "parse and plan the build, print the plan, and run nothing"),
        .repeated(
            "secret", "id=ID,src=PATH",
            help: "give RUN --mount=type=secret,id=ID the file PATH (or env=VARIABLE); repeatable; never stored in the image"),
        .value(
            "platform", "OS/ARCH[/VARIANT]",
            help: "build for this platform: FROM without --platform picks it from an index, and TARGETPLATFORM, TARGETOS and TARGETARCH name it (default: the host's, and then a local base of another platform is used with a warning)"),
    ] + RegistryOptions.specs

    let context: String
    let file: String?
    let tags: [String]
    let buildOptions: BuildOptions
    let noCache: Bool
    let timestamp: Int64?
    let compression: String
    let dryRun: Bool
    let secrets: [BuildSecret]
    let registry: RegistryOptions
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...1)
        context = arguments.positionals.first ?? "."
        file = arguments.value("file")
        tags = arguments.values("tag")
        // A bad name fails now, not after every step has run.
        for tag in tags {
            _ = try ImageReference(local: tag)
        }
        noCache = arguments.flag("no-cache")
        var secrets = [BuildSecret]()
        for argument in arguments.values("secret") {
            let secret: BuildSecret
            do {
                secret = try BuildSecret(parsing: argument)
            } catch {
                throw UsageError("\(error)", command: Self.name)
            }
            // A missing file fails now, not after the steps before the first one that mounts it.
            if case .file(let path) = secret.source, !FileManager.default.isReadableFile(atPath: path) {
                throw UsageError("invalid --secret \"\(argument)\": file \(path) is missing or unreadable", command: Self.name)
            }
            secrets.append(secret)
        }
        self.secrets = secrets
        dryRun = arguments.flag("dry-run")
        registry = try RegistryOptions(arguments: arguments, command: Self.name)
        self.global = global

        var buildArgs = [String: String]()
        for argument in arguments.values("build-arg") {
            let (name, value) = Self.split(argument)
            guard !name.isEmpty else {
                throw UsageError("invalid --build-arg \"\(argument)\": expected NAME=VALUE or NAME", command: Self.name)
            }
            // podman takes a bare NAME from the environment and ignores it when unset.
            if let value = value ?? ProcessInfo.processInfo.environment[name] { buildArgs[name] = value }
        }
        var labels = [String: String]()
        for argument in arguments.values("label") {
            let (key, value) = Self.split(argument)
            guard !key.isEmpty else {
                throw UsageError("invalid --label \"\(argument)\": expected KEY=VALUE", command: Self.name)
            }
            labels[key] = value ?? ""
        }

        let network = arguments.value("network")
        if let network, !["host", "none", "private"].contains(network) {
            throw UsageError("invalid --network \"\(network)\": expected host, none or private", command: Self.name)
        }
        compression = arguments.value("compression") ?? "gzip"
        guard ["gzip", "zstd", "none"].contains(compression) else {
            throw UsageError("invalid --compression \"\(compression)\": expected gzip, zstd or none", command: Self.name)
        }
        if let text = arguments.value("timestamp") ?? ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let seconds = Int64(text), seconds >= 0 else {
                throw UsageError("invalid timestamp \"\(text)\": expected whole seconds since the epoch", command: Self.name)
            }
            timestamp = seconds
        } else {
            timestamp = nil
        }
        var platform = Platform.current
        if let text = arguments.value("platform") {
            do {
                platform = try Platform(parsing: text)
            } catch {
                throw UsageError("invalid --platform \"\(text)\": expected OS/ARCH[/VARIANT] such as linux/arm64", command: Self.name)
            }
        }
        buildOptions = BuildOptions(
            buildArgs: buildArgs, target: arguments.value("target"), labels: labels, network: network, platform: platform,
            platformIsExplicit: arguments.value("platform") != nil)
    }

    static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    func run() throws -> Int32 {
        // `podman build -` reads the Dockerfile from standard input and builds without a
        // context, so COPY has nothing to copy from. An empty directory serves as the context.
        var directory = context
        var dockerfile = file
        var emptyContext: String?
        if context == "-" {
            guard file == nil || file == "-" else {
                throw UsageError("build - reads the Dockerfile from standard input; -f cannot name another", command: Self.name)
            }
            let path = FileManager.default.temporaryDirectory.path + "/crib-empty-context-\(UUID().uuidString)"
            try checkSyscall("create directory", path: path) { mkdir(path, 0o700) }
            emptyContext = path
            directory = path
            dockerfile = "-"
        }
        defer { if let emptyContext { rmdir(emptyContext) } }

        let buildContext = try BuildContext(directory: directory, file: dockerfile)
        return dryRun ? try printPlan(buildContext) : try build(buildContext)
    }

    private func build(_ buildContext: BuildContext) throws -> Int32 {
        let registry = self.registry
        let options = BuildExecutor.Options(
            tags: tags, noCache: noCache, timestamp: timestamp, compression: LayerCompression(rawValue: compression) ?? .gzip,
            secrets: secrets, registryConfiguration: { host in try registry.configuration(for: host) })
        let quiet = global.quiet
        // STEP lines go to stderr like every progress line; stdout gets only the image id.
        let executor = try BuildExecutor(
            root: global.root, context: buildContext, buildOptions: buildOptions, options: options, log: global.log
        ) { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let result = try executor.run()
        print(result.image.id.encoded)
        return 0
    }

    private func printPlan(_ buildContext: BuildContext) throws -> Int32 {
        let bases = StoreBaseLookup(root: global.root)
        let plan = try BuildPlanner(dockerfile: buildContext.dockerfile, options: buildOptions) { reference, _ in
            try bases.settings(for: reference)
        }.plan()
        if !plan.unusedBuildArgs.isEmpty {
            global.log.log(.warning, "build args not used by any ARG: \(plan.unusedBuildArgs.joined(separator: ", "))")
        }
        print(BuildPlanText.render(plan, context: buildContext, unknownBases: bases.unknown), terminator: "")
        return 0
    }
}

/// Looks up FROM images in the local store for planning; an image that is not there counts
/// as unknown and plans with empty settings.
final class StoreBaseLookup {
    private let store: ContentStore?
    private(set) var unknown: [String] = []

    init(root: RootDirectory) {
        // A dry run must not create a store, so it opens only one that exists.
        if FileManager.default.fileExists(atPath: root.store + "/index.json") {
            store = try? ContentStore(root: root)
        } else {
            store = nil
        }
    }

    func settings(for reference: String) throws -> ImageSettings {
        if let store {
            do {
                return ImageSettings(try store.image(reference).config)
            } catch OCIError.imageNotFound {
            } catch OCIError.invalidReference {
            }
        }
        if !unknown.contains(reference) { unknown.append(reference) }
        return ImageSettings()
    }
}
