extension Instruction {
    /// `FROM [--platform=P] IMAGE [AS NAME]`.
    public struct From: Hashable, Sendable {
        /// The base: an image reference, a stage name or `scratch`, unexpanded.
        public var image: String
        /// The stage name after `AS`, lower-cased as stage names are matched.
        public var stageName: String?
        public var platform: String?

        public init(image: String, stageName: String? = nil, platform: String? = nil) {
            self.image = image
            self.stageName = stageName
            self.platform = platform
        }
    }

    /// One name of an `ARG` line, with its default when it has one.
    public struct ArgDeclaration: Hashable, Sendable {
        public var name: String
        /// The default as written, quotes included; nil when the line names no default.
        public var defaultValue: String?

        public init(name: String, defaultValue: String? = nil) {
            self.name = name
            self.defaultValue = defaultValue
        }
    }

    /// One pair of an ENV or LABEL line, unexpanded.
    public struct KeyValue: Hashable, Sendable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// COPY and ADD: the sources, the destination and their flags.
    public struct Copy: Hashable, Sendable {
        public enum Source: Hashable, Sendable {
            /// A context path, glob, URL (ADD) or, with `--from`, a path in another stage or image.
            case path(String)
            case heredoc(Heredoc)
        }

        public var isAdd: Bool
        public var sources: [Source]
        public var destination: String
        /// `--from=STAGE|INDEX|IMAGE`.
        public var from: String?
        /// `--chown=USER[:GROUP]`, names or ids.
        public var chown: String?
        /// `--chmod=MODE`, octal.
        public var chmod: String?
        public var link: Bool
        public var parents: Bool
        /// `--exclude=PATTERN`, repeatable.
        public var excludes: [String]
        /// ADD `--checksum=sha256:…`.
        public var checksum: String?
        /// ADD `--keep-git-dir`.
        public var keepGitDirectory: Bool
        /// ADD `--unpack`; nil means ADD's default: local archives are extracted, URLs are not.
        public var unpack: Bool?
        /// True for the JSON form, where sources are not split at whitespace.
        public var isJSONForm: Bool

        public init(
            isAdd: Bool, sources: [Source], destination: String, from: String? = nil, chown: String? = nil,
            chmod: String? = nil, link: Bool = false, parents: Bool = false, excludes: [String] = [],
            checksum: String? = nil, keepGitDirectory: Bool = false, unpack: Bool? = nil, isJSONForm: Bool = false
        ) {
            self.isAdd = isAdd
            self.sources = sources
            self.destination = destination
            self.from = from
            self.chown = chown
            self.chmod = chmod
            self.link = link
            self.parents = parents
            self.excludes = excludes
            self.checksum = checksum
            self.keepGitDirectory = keepGitDirectory
            self.unpack = unpack
            self.isJSONForm = isJSONForm
        }
    }

    /// A command in exec form (a JSON array, run as it is) or shell form (run through SHELL).
    public enum CommandLine: Hashable, Sendable {
        case exec([String])
        case shell(String)
    }

    /// `RUN [--mount=…] [--network=…] [--security=…] COMMAND`, with any heredocs that follow it.
    public struct Run: Hashable, Sendable {
        public var command: CommandLine
        public var heredocs: [Heredoc]
        /// Each `--mount` value, unparsed: `type=cache,target=/root/.cache`.
        public var mounts: [String]
        /// `--network=default|none|host`.
        public var network: String?
        /// `--security=sandbox|insecure`.
        public var security: String?

        public init(
            command: CommandLine, heredocs: [Heredoc] = [], mounts: [String] = [], network: String? = nil,
            security: String? = nil
        ) {
            self.command = command
            self.heredocs = heredocs
            self.mounts = mounts
            self.network = network
            self.security = security
        }
    }

    /// `HEALTHCHECK NONE` or `HEALTHCHECK [OPTIONS] CMD COMMAND`.
    public struct Healthcheck: Hashable, Sendable {
        /// Nil for `HEALTHCHECK NONE`, which turns off a check inherited from the base image.
        public var command: CommandLine?
        /// Durations in nanoseconds, as the image config stores them; nil when not given.
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var startInterval: Int64?
        public var retries: Int?

        public init(
            command: CommandLine?, interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
            startInterval: Int64? = nil, retries: Int? = nil
        ) {
            self.command = command
            self.interval = interval
            self.timeout = timeout
            self.startPeriod = startPeriod
            self.startInterval = startInterval
            self.retries = retries
        }
    }
}
