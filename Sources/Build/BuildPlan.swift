/// The plan of a build: the stages it needs in dependency order, each with its steps fully
/// expanded, so that an executor only walks it and a dry run can print it.
public struct BuildPlan: Sendable {
    public let dockerfile: Dockerfile
    /// The stages the target needs, the target last; each stage comes after those it uses.
    public let stages: [PlannedStage]
    /// `--build-arg` names that no ARG in the planned stages declared and that are not
    /// predefined; podman warns about them.
    public let unusedBuildArgs: [String]

    public var target: PlannedStage { stages[stages.count - 1] }
}

/// One stage of a plan: where it starts from and its steps.
public struct PlannedStage: Sendable {
    public enum Base: Hashable, Sendable {
        case scratch
        /// An image reference or transport reference, expanded.
        case image(String)
        /// An earlier stage, by index.
        case stage(Int)
    }

    public let stage: Stage
    public let base: Base
    /// `--platform` of FROM, expanded.
    public let platform: String?
    /// The settings the stage starts from: the base's, as the resolver returned them.
    public let baseSettings: ImageSettings
    public let steps: [PlannedStep]
    /// The settings after the last step: the config the stage's image gets.
    public let settings: ImageSettings
    /// The indexes of the other stages this one reads from, through FROM, `COPY --from` or
    /// `RUN --mount=from=`.
    public let dependencies: [Int]

    public var index: Int { stage.index }
}

/// One instruction of a stage with every variable expanded.
public struct PlannedStep: Sendable {
    public let instruction: Instruction
    public let action: Action
    /// The instruction with its arguments expanded, in the form image history shows it, such as
    /// `ENV PATH=/opt/java/bin:/usr/bin`. For RUN it is the command with the build args in scope.
    public let summary: String
    /// The settings after this step.
    public let settings: ImageSettings
    /// The ARGs in scope at this step with their values, for RUN's environment and the cache key.
    public let arguments: [String: String]
    /// True for an ONBUILD trigger inherited from the base image rather than a line of this stage.
    public let isTrigger: Bool

    public enum Action: Hashable, Sendable {
        /// Only the config changes, or nothing does (ARG).
        case configure
        /// WORKDIR: the config changes and the directory is created when it does not exist.
        case workdir(String)
        case run(RunStep)
        case copy(CopyStep)
    }
}

/// A RUN step ready to start in a container.
public struct RunStep: Hashable, Sendable {
    public enum Command: Hashable, Sendable {
        case argv([String])
        /// A heredoc that starts with `#!`: written to a file and executed by its own interpreter.
        case script(name: String, content: String)
    }

    public let command: Command
    /// `KEY=VALUE` for the process: the image's environment, then the ARGs in scope that it
    /// does not set, then any predefined proxy ARGs given with `--build-arg`.
    public let environment: [String]
    public let workingDirectory: String
    public let user: String?
    /// `host`, `none` or `private`; nil means the build's default.
    public let network: String?
    /// `--mount` options, parsed and expanded, parents before the mounts inside them.
    public let mounts: [RunMount]
}

/// A COPY or ADD step: its sources, where they come from and where they go.
public struct CopyStep: Hashable, Sendable {
    public enum Origin: Hashable, Sendable {
        case context
        case stage(Int)
        case image(String)
    }

    public enum Source: Hashable, Sendable {
        /// A path or glob relative to the origin's root, expanded and cleaned.
        case path(String)
        /// An ADD source fetched over HTTP(S).
        case url(String)
        /// A heredoc: the file name and the content, expanded unless its delimiter was quoted.
        case heredoc(name: String, content: String)
    }

    public let isAdd: Bool
    public let origin: Origin
    public let sources: [Source]
    /// The absolute destination, resolved against the working directory and cleaned.
    public let destination: String
    /// True when the destination was written with a trailing `/`, which makes it a directory.
    public let destinationIsDirectory: Bool
    public let chown: String?
    /// The mode from `--chmod`, parsed from octal.
    public let chmod: UInt32?
    public let link: Bool
    public let parents: Bool
    public let excludes: [String]
    public let checksum: String?
    public let keepGitDirectory: Bool
    public let unpack: Bool?
}
