import Foundation
import Layering
import OCI
import Runner

/// Runs a build plan: each stage from its base, one layer per COPY, ADD and RUN, and
/// config-only steps as history entries, with the build cache in front of every layer.
/// The image is committed and tagged only once every step succeeded, so a failed build
/// leaves no tag.
public final class BuildExecutor {
    public struct Options: Sendable {
        public var tags: [String]
        public var noCache: Bool
        /// Seconds since the epoch for every created time and, as an upper bound, every file time.
        public var timestamp: Int64?
        public var compression: LayerCompression
        /// The crib binary, which the runner starts again as the container shim.
        public var executable: String
        /// Registry settings (TLS, credentials) for a `FROM docker://…` base.
        public var registryConfiguration: @Sendable (String) throws -> RegistryClient.Configuration
        /// `--secret` values by id, for `RUN --mount=type=secret`.
        public var secrets: [String: BuildSecret]

        public init(
            tags: [String] = [], noCache: Bool = false, timestamp: Int64? = nil, compression: LayerCompression = .gzip,
            executable: String = "/proc/self/exe", secrets: [BuildSecret] = [],
            registryConfiguration: @escaping @Sendable (String) throws -> RegistryClient.Configuration = { _ in .init() }
        ) {
            self.secrets = Dictionary(secrets.map { ($0.id, $0) }) { _, last in last }
            self.tags = tags
            self.noCache = noCache
            self.timestamp = timestamp
            self.compression = compression
            self.executable = executable
            self.registryConfiguration = registryConfiguration
        }
    }

    public struct Result: Sendable {
        public let image: StoredImage
        public let plan: BuildPlan
        /// COPY, ADD and RUN steps that ran, not counting cache hits.
        public let executedSteps: Int
        public let cachedSteps: Int
    }

    /// The layers and history of a stage as far as it has been built, and its cache key.
    struct ImageState {
        var layers: [Descriptor]
        var diffIDs: [Digest]
        var history: [History]
        var key: Digest
    }

    let root: RootDirectory
    let store: ContentStore
    let layerCache: LayerCache
    let cache: BuildCache
    let context: BuildContext
    let buildOptions: BuildOptions
    let options: Options
    let log: any LogSink
    /// Receives the `STEP n/m:` lines and the other progress lines podman prints.
    let progress: (String) -> Void

    var images: [String: StoredImage] = [:]
    var stageStates: [Int: ImageState] = [:]
    var executedSteps = 0
    var cachedSteps = 0
    var temporaryPaths: [String] = []
    /// Digests of context files from earlier builds, so that unchanged files are not read again.
    lazy var fileDigests = FileDigestCache(path: root.cache + "/context-files.json", temporaryDirectory: root.tmp)

    public init(
        root: RootDirectory, context: BuildContext, buildOptions: BuildOptions, options: Options,
        log: any LogSink = SilentLog(), progress: @escaping (String) -> Void = { _ in }
    ) throws {
        self.root = root
        self.store = try ContentStore(root: root, log: log)
        self.layerCache = LayerCache(root: root, log: log)
        self.cache = BuildCache(root: root)
        self.context = context
        self.buildOptions = buildOptions
        self.options = options
        self.log = log
        self.progress = progress
    }

    /// The created time every config and history entry of this build gets.
    lazy var created: String = {
        let date = options.timestamp.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = options.timestamp == nil ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: date)
    }()

    /// What every layer of the build depends on besides its content, for the cache keys.
    var layerSettings: String {
        "compression=\(options.compression) timestamp=\(options.timestamp.map(String.init) ?? "none")"
    }

    public func run() throws -> Result {
        // Held for the whole build, because a cache hit reuses a blob that no image references
        // yet, and RUN and COPY stage directories in tmp/. A collection waits until the build ends.
        try store.holdForWriting()
        defer {
            for path in temporaryPaths { try? FileTree.remove(path) }
        }
        let plan = try BuildPlanner(dockerfile: context.dockerfile, options: buildOptions) { [unowned self] reference, platform in
            let picked = try platform.map { try Platform(parsing: $0) } ?? self.buildOptions.platform
            let explicit = platform != nil || self.buildOptions.platformIsExplicit
            return ImageSettings(try self.baseImage(reference, platform: picked, explicit: explicit).config)
        }.plan()
        if !plan.unusedBuildArgs.isEmpty {
            log.log(.warning, "build args not used by any ARG: \(plan.unusedBuildArgs.joined(separator: ", "))")
        }

        for (position, stage) in plan.stages.enumerated() {
            stageStates[stage.index] = try execute(stage, position: position, of: plan.stages.count)
        }
        do {
            try fileDigests.save()
        } catch {
            log.log(.warning, "failed to save the digests of context files: \(error)")
        }

        let target = plan.target
        guard let state = stageStates[target.index] else { throw BuildError.targetNotFound(target.stage.displayName) }
        let imageKey = BuildCache.key(
            parent: state.key, summary: "IMAGE " + String(decoding: try CanonicalJSON.encode(target.settings.containerConfig), as: UTF8.self)
                + " author=\(target.settings.author ?? "") platform=\(try platform(of: target))", content: nil)

        let names = options.tags
        progress("COMMIT \(names.joined(separator: " "))")
        let image: StoredImage
        if let cached = try cachedImage(imageKey) {
            // Nothing changed since the build that committed this image: it gets the tags again,
            // and keeps its id, as podman and buildah reuse a fully cached image.
            image = try tagged(cached, names)
        } else {
            var config = ImageConfig(platform: try platform(of: target), config: target.settings.containerConfig, diffIDs: state.diffIDs)
            config.created = created
            config.author = target.settings.author
            config.history = state.history
            image = try store.commitImage(config: config, layers: state.layers, names: names)
            try cache.recordImage(imageKey, manifest: image.digest)
        }
        progress("--> \(image.id.shortID)")
        for name in image.names { progress("Successfully tagged \(name)") }
        return Result(image: image, plan: plan, executedSteps: executedSteps, cachedSteps: cachedSteps)
    }

    /// Returns the image an earlier build with the same final key committed, if it is still in the store.
    func cachedImage(_ key: Digest) throws -> StoredImage? {
        guard !options.noCache, let digest = cache.lookupImage(key) else { return nil }
        do {
            let image = try store.image(digest.description)
            return image.digest == digest ? image : nil
        } catch OCIError.imageNotFound {
            return nil
        }
    }

    /// Gives `image` each of `names` that it does not have yet.
    func tagged(_ image: StoredImage, _ names: [String]) throws -> StoredImage {
        var image = image
        for name in names {
            let qualified = try ImageReference(local: name).description
            guard !image.names.contains(qualified) else { continue }
            try store.tag(image, as: name)
            image.names.append(qualified)
        }
        return image
    }

    /// Finds a FROM or `COPY --from` image for `platform`: a name in the local store, or an
    /// image that a transport names (`oci:`, `oci-archive:`, `docker-archive:`, `docker://`),
    /// which is copied into the store first, picking `platform` from an index.
    ///
    /// - Throws: `BuildError.imageUnavailable` when the image is missing or is not for
    ///   `platform`, without a location, which callers add.
    func baseImage(_ reference: String, platform: Platform, explicit: Bool = true) throws -> StoredImage {
        let cacheName = "\(reference) \(platform)"
        if let image = images[cacheName] { return image }
        let transport: TransportReference
        do {
            transport = try TransportReference(parsing: reference)
        } catch let error as OCIError {
            throw BuildError.imageUnavailable(reference, reason: "invalid image reference: \(error)")
        }

        let image: StoredImage
        if case .registry(let registryReference) = transport, let stored = try? store.image(registryReference.description),
            Platform(architecture: stored.config.architecture, os: stored.config.os, variant: stored.config.variant).matches(platform)
        {
            // As podman's default pull policy ("missing"): a registry image already in the store
            // under its name is used as it is, without asking the registry.
            image = stored
        } else if case .store(let name) = transport {
            do {
                image = try store.image(name)
            } catch OCIError.imageNotFound {
                throw BuildError.imageUnavailable(
                    reference,
                    reason: "not found in the local store; pull it (crib pull \(reference)) or name a transport such as docker://\(reference)")
            }
        } else {
            progress("Copying \(reference) into the store")
            let endpoints = TransferEndpoints(store: store, log: log, registryConfiguration: options.registryConfiguration)
            // A registry image keeps its name, as after podman pull, so that later builds find
            // it in the store and prune keeps it. Archives and layouts give no name to keep.
            var names = [String]()
            if case .registry(let registryReference) = transport { names = [registryReference.description] }
            let destination = StoreImageDestination(store: store, names: names)
            do {
                try ImageCopier(log: log).copy(from: try endpoints.source(transport), to: destination, platform: platform)
            } catch let error as OCIError {
                throw BuildError.imageUnavailable(reference, reason: error.description)
            }
            guard let copied = destination.image else {
                throw BuildError.imageUnavailable(reference, reason: "copied but not stored")
            }
            image = copied
        }

        // A store image, or a source without an index, has one platform, which must be the one
        // requested: crib does not emulate other CPUs.
        let config = image.config
        let found = Platform(architecture: config.architecture, os: config.os, variant: config.variant)
        if !config.architecture.isEmpty, !found.matches(platform) {
            // A store image has one platform and nothing else to pick from; podman builds on it
            // with a warning unless a platform was asked for.
            guard !explicit, case .store = transport else {
                throw BuildError.imageUnavailable(
                    reference, reason: "the image is for \(found), not \(platform); name a source that has \(platform)")
            }
            log.log(.warning, "image \(reference) is for \(found), not \(platform); using it, so RUN steps may fail to execute")
        }
        images[cacheName] = image
        return image
    }

    /// Returns the platform a stage's base is picked for: its FROM `--platform`, else the build's.
    func platform(of stage: PlannedStage) throws -> Platform {
        guard let text = stage.platform else { return buildOptions.platform }
        do {
            return try Platform(parsing: text)
        } catch {
            throw BuildError.invalidInstruction(
                stage.stage.fromInstruction.location, "invalid FROM --platform=\(text): expected os/arch[/variant] such as linux/arm64")
        }
    }

    func execute(_ stage: PlannedStage, position: Int, of count: Int) throws -> ImageState {
        let prefix = count > 1 ? "[\(position + 1)/\(count)] " : ""
        let total = stage.steps.count + 1
        progress("\(prefix)STEP 1/\(total): \(stage.stage.fromInstruction.text)")

        var state: ImageState
        switch stage.base {
        case .scratch:
            state = ImageState(layers: [], diffIDs: [], history: [], key: BuildCache.baseKey(base: "scratch", layerSettings: layerSettings))
        case .image(let reference):
            // The planner resolved this base already, so the lookup hits the images seen.
            let image = try baseImage(
                reference, platform: try platform(of: stage), explicit: stage.platform != nil || buildOptions.platformIsExplicit)
            state = ImageState(
                layers: image.manifest.layers, diffIDs: image.config.rootfs.diffIDs, history: image.config.history ?? [],
                key: BuildCache.baseKey(base: image.digest.description, layerSettings: layerSettings))
        case .stage(let index):
            guard let base = stageStates[index] else { throw BuildError.targetNotFound(String(index)) }
            state = base
        }

        for (index, step) in stage.steps.enumerated() {
            progress("\(prefix)STEP \(index + 2)/\(total): \(step.instruction.text)")
            switch step.action {
            case .configure, .workdir:
                // NOTE: WORKDIR's directory is created by the next RUN or COPY that needs it. A
                // stage that ends without one has the directory only if the base already had it.
                state.history.append(History(created: created, createdBy: HistoryText.configuration(step.summary), emptyLayer: true))
                state.key = BuildCache.key(parent: state.key, summary: step.summary, content: nil)
            case .copy(let copy):
                try Self.locatingErrors(of: step) { try executeCopy(copy, step: step, state: &state) }
            case .run(let run):
                try Self.locatingErrors(of: step) { try executeRun(run, step: step, state: &state) }
            }
        }
        return state
    }

    /// Runs `body`, adding the line and instruction of `step` to an error that names no
    /// Dockerfile line, such as ENOSPC while a layer is written.
    static func locatingErrors<T>(of step: PlannedStep, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BuildError {
            throw error
        } catch {
            throw BuildError.layerFailed(step.instruction.location, instruction: step.instruction.text, reason: "\(error)")
        }
    }

    /// Reuses the cached layer for `key` when there is one and the build allows it.
    func reuseCachedLayer(_ key: Digest, state: inout ImageState) -> Bool {
        guard !options.noCache, let entry = cache.lookup(key, in: store) else { return false }
        progress("--> Using cache \(entry.diffID.encoded)")
        append(layer: entry.layer, diffID: entry.diffID, createdBy: entry.createdBy, key: key, to: &state)
        cachedSteps += 1
        return true
    }

    func append(layer: Descriptor, diffID: Digest, createdBy: String, key: Digest, to state: inout ImageState) {
        state.layers.append(layer)
        state.diffIDs.append(diffID)
        state.history.append(History(created: created, createdBy: createdBy))
        state.key = key
    }

    /// Writes a layer through `body` into the store, records it in the cache under `key`, and
    /// returns its diffID.
    @discardableResult
    func writeLayer(key: Digest, createdBy: String, state: inout ImageState, _ body: (LayerWriter) throws -> Void) throws -> Digest {
        let blob = try store.beginBlob()
        let writer = try LayerWriter(
            sink: blob, options: LayerWriter.Options(compression: options.compression, timestamp: options.timestamp), log: log)
        do {
            try body(writer)
        } catch {
            blob.abort()
            throw error
        }
        let result = try writer.finish()
        let descriptor = try blob.commit(mediaType: result.mediaType, expected: result.digest)
        try cache.record(key, BuildCache.Entry(layer: descriptor, diffID: result.diffID, createdBy: createdBy))
        append(layer: descriptor, diffID: result.diffID, createdBy: createdBy, key: key, to: &state)
        progress("--> \(result.diffID.shortID)")
        executedSteps += 1
        return result.diffID
    }

    /// Unpacks the state's layers into the layer cache and returns their directories, top first.
    ///
    /// A layer that occurs twice (two RUN steps that changed nothing both have the empty
    /// layer) is listed once, at its top position, because overlayfs rejects a lower directory
    /// given twice. The view stays the same: the top copy applies the same files last.
    func layerDirectories(_ state: ImageState) throws -> [String] {
        var directories = [String]()
        for (layer, diffID) in zip(state.layers, state.diffIDs) {
            directories.append(try layerCache.unpack(diffID: diffID, from: { try self.store.openBlob(layer) }))
        }
        var seen = Set<String>()
        return directories.reversed().filter { seen.insert($0).inserted }
    }

    /// Creates a directory under `<root>/tmp` that is removed when the build ends.
    func temporaryDirectory(_ prefix: String) throws -> String {
        let path = root.tmp + "/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        temporaryPaths.append(path)
        return path
    }
}
