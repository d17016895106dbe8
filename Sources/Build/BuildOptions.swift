import OCI

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
    /// The platform the image is built for (`--platform`): FROM without `--platform` picks it
    /// from an index, and the TARGET* ARGs name it.
    public var platform: Platform
    /// Whether `--platform` was given. Without it, a local base image of another platform is
    /// used with a warning, as podman does, instead of failing the build.
    public var platformIsExplicit: Bool

    public init(
        buildArgs: [String: String] = [:], target: String? = nil, labels: [String: String] = [:],
        network: String? = nil, platform: Platform = .current, platformIsExplicit: Bool = false
    ) {
        self.buildArgs = buildArgs
        self.target = target
        self.labels = labels
        self.network = network
        self.platform = platform
        self.platformIsExplicit = platformIsExplicit
    }
}
