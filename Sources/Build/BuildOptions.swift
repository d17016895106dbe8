/// What a build takes besides the Dockerfile: the values `crib build` flags give.
public struct BuildOptions: Hashable, Sendable {
    /// `--build-arg NAME=VALUE` values by name.
    public var buildArgs: [String: String]
    /// `--target`: the stage to build; nil builds the last stage.
    public var target: String?
    /// `--label`: labels set on the final image, over any the Dockerfile sets.
    public var labels: [String: String]
    /// `--network` for RUN steps that do not set their own: `host` (the default), `none`, `private`.
    public var network: String?
    /// The platform the image is built for and on, as `os/architecture[/variant]`.
    public var platform: BuildPlatform

    public init(
        buildArgs: [String: String] = [:], target: String? = nil, labels: [String: String] = [:],
        network: String? = nil, platform: BuildPlatform = .host
    ) {
        self.buildArgs = buildArgs
        self.target = target
        self.labels = labels
        self.network = network
        self.platform = platform
    }
}

/// An `os/architecture[/variant]` platform, as the automatic platform ARGs name it.
public struct BuildPlatform: Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// The platform crib runs on, with Go's architecture names as image configs use them.
    public static var host: BuildPlatform {
        #if arch(x86_64)
            return BuildPlatform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
            return BuildPlatform(os: "linux", architecture: "arm64", variant: "v8")
        #else
            return BuildPlatform(os: "linux", architecture: "unknown")
        #endif
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }
}
