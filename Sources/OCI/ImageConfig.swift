/// An image configuration ("Image Configuration" in the OCI image spec).
///
/// Docker's `application/vnd.docker.container.image.v1+json` decodes into the same type:
/// its extra top-level fields (`container_config`, `docker_version`) are ignored, and its
/// extra `config` fields that crib uses (Healthcheck, OnBuild, Shell) are kept.
public struct ImageConfig: Codable, Hashable, Sendable {
    /// RFC 3339 time the image was created, kept as text so that a decoded config encodes back unchanged.
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
    }

    public init(platform: Platform = .current, config: ContainerConfig? = ContainerConfig(), diffIDs: [Digest] = []) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
    }

    public var platform: Platform {
        var platform = Platform(architecture: architecture, os: os, variant: variant)
        platform.osVersion = osVersion
        return platform
    }
}

/// The execution parameters of an image (the `config` object of an image configuration).
public struct ContainerConfig: Codable, Hashable, Sendable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    /// Docker extensions, kept in OCI configs too because builds inherit them.
    public var healthcheck: Healthcheck?
    public var onBuild: [String]?
    public var shell: [String]?

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case argsEscaped = "ArgsEscaped"
        case healthcheck = "Healthcheck"
        case onBuild = "OnBuild"
        case shell = "Shell"
    }

    public init() {}

    /// The value of `name` in `Env`, or nil when it is not set.
    public func environmentValue(_ name: String) -> String? {
        for entry in env ?? [] {
            if entry.hasPrefix(name + "=") { return String(entry.dropFirst(name.count + 1)) }
        }
        return nil
    }

    /// Sets `name` in `Env`, replacing an earlier value in place so that the order stays stable.
    public mutating func setEnvironment(_ name: String, _ value: String) {
        var entries = env ?? []
        let entry = "\(name)=\(value)"
        if let index = entries.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") }) {
            entries[index] = entry
        } else {
            entries.append(entry)
        }
        env = entries
    }

    /// Removes `name` from `Env`.
    public mutating func removeEnvironment(_ name: String) {
        env = env?.filter { $0 != name && !$0.hasPrefix(name + "=") }
    }
}

/// Docker's health check configuration, in nanoseconds as Docker stores it.
public struct Healthcheck: Codable, Hashable, Sendable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    enum CodingKeys: String, CodingKey {
        case test = "Test"
        case interval = "Interval"
        case timeout = "Timeout"
        case startPeriod = "StartPeriod"
        case startInterval = "StartInterval"
        case retries = "Retries"
    }

    public init(test: [String]?) {
        self.test = test
    }
}

/// The layer list of an image configuration: diffIDs, the digests of the uncompressed tars.
public struct RootFS: Codable, Hashable, Sendable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(diffIDs: [Digest]) {
        self.type = "layers"
        self.diffIDs = diffIDs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        // Docker writes `"diff_ids": null` for an image with no layers.
        diffIDs = try container.decodeIfPresent([Digest].self, forKey: .diffIDs) ?? []
    }
}

/// One entry of an image's history, as `podman history` lists them.
public struct History: Codable, Hashable, Sendable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }

    public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool = false) {
        self.created = created
        self.createdBy = createdBy
        self.comment = comment
        self.emptyLayer = emptyLayer ? true : nil
    }
}

/// The `{}` values of `ExposedPorts` and `Volumes`.
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}

    public init(from decoder: any Decoder) throws {}

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: EmptyCodingKey.self)
    }

    private struct EmptyCodingKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
