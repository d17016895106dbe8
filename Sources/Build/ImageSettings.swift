/// The parts of an image config that Dockerfile instructions set, tracked while a stage is
/// planned. It mirrors the OCI image config's `config` object plus the Docker-only fields
/// (Shell, Healthcheck, OnBuild) that podman keeps in Docker-format images.
public struct ImageSettings: Hashable, Sendable {
    /// `KEY=VALUE` entries in the order the image defines them.
    public var environment: [String]
    public var user: String?
    /// An absolute, cleaned path; nil means `/`.
    public var workingDirectory: String?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var labels: [String: String]
    /// Ports as `80/tcp`, sorted.
    public var exposedPorts: [String]
    /// Volume paths, sorted.
    public var volumes: [String]
    public var stopSignal: String?
    /// The SHELL used for shell-form RUN, CMD and ENTRYPOINT; nil means `/bin/sh -c`.
    public var shell: [String]?
    public var healthcheck: HealthcheckSettings?
    /// ONBUILD triggers as written after ONBUILD, for images built FROM this one.
    public var onBuild: [String]
    /// MAINTAINER's value, which the image config stores as `author`.
    public var author: String?

    public static let defaultShell = ["/bin/sh", "-c"]

    public init(
        environment: [String] = [], user: String? = nil, workingDirectory: String? = nil, entrypoint: [String]? = nil,
        cmd: [String]? = nil, labels: [String: String] = [:], exposedPorts: [String] = [], volumes: [String] = [],
        stopSignal: String? = nil, shell: [String]? = nil, healthcheck: HealthcheckSettings? = nil,
        onBuild: [String] = [], author: String? = nil
    ) {
        self.environment = environment
        self.user = user
        self.workingDirectory = workingDirectory
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.labels = labels
        self.exposedPorts = exposedPorts
        self.volumes = volumes
        self.stopSignal = stopSignal
        self.shell = shell
        self.healthcheck = healthcheck
        self.onBuild = onBuild
        self.author = author
    }

    /// The value of environment variable `name`, or nil when the image does not set it.
    public func environmentValue(_ name: String) -> String? {
        for entry in environment.reversed() {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }

    /// Sets `name` to `value`, in place when the image already defines it, else at the end.
    public mutating func setEnvironment(_ name: String, _ value: String) {
        let entry = "\(name)=\(value)"
        if let index = environment.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") }) {
            environment[index] = entry
        } else {
            environment.append(entry)
        }
    }

    /// The environment as a dictionary, the form variable expansion reads.
    public var environmentDictionary: [String: String] {
        var result = [String: String]()
        for entry in environment {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }
}

/// A HEALTHCHECK as the Docker image config stores it.
public struct HealthcheckSettings: Hashable, Sendable {
    /// `["NONE"]`, `["CMD", argv...]` or `["CMD-SHELL", command]`.
    public var test: [String]
    /// Nanoseconds; nil inherits the runtime's default.
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    public init(
        test: [String], interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
        startInterval: Int64? = nil, retries: Int? = nil
    ) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}
