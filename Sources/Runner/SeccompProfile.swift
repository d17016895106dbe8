import Foundation

/// A seccomp profile in the JSON format of Docker and podman (`--security-opt seccomp=FILE`).
public struct SeccompProfile: Codable, Sendable {
    public var defaultAction: Action
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var syscalls: [Rule]

    public init(defaultAction: Action, defaultErrnoRet: UInt32? = nil, syscalls: [Rule]) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.syscalls = syscalls
    }

    /// A libseccomp action by its `SCMP_ACT_*` name.
    public enum Action: String, Codable, Sendable {
        case allow = "SCMP_ACT_ALLOW"
        case errno = "SCMP_ACT_ERRNO"
        case kill = "SCMP_ACT_KILL"
        case killThread = "SCMP_ACT_KILL_THREAD"
        case killProcess = "SCMP_ACT_KILL_PROCESS"
        case trap = "SCMP_ACT_TRAP"
        case trace = "SCMP_ACT_TRACE"
        case log = "SCMP_ACT_LOG"
    }

    /// A libseccomp argument comparison by its `SCMP_CMP_*` name.
    public enum Operator: String, Codable, Sendable {
        case notEqual = "SCMP_CMP_NE"
        case lessThan = "SCMP_CMP_LT"
        case lessOrEqual = "SCMP_CMP_LE"
        case equal = "SCMP_CMP_EQ"
        case greaterOrEqual = "SCMP_CMP_GE"
        case greaterThan = "SCMP_CMP_GT"
        case maskedEqual = "SCMP_CMP_MASKED_EQ"
    }

    public struct Argument: Codable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: Operator

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: Operator) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    /// When a rule applies: granted capabilities, architectures (Docker's names such as
    /// `amd64`) and a minimum kernel release.
    public struct Condition: Codable, Sendable {
        public var caps: [String]?
        public var arches: [String]?
        public var minKernel: String?

        public init(caps: [String]? = nil, arches: [String]? = nil, minKernel: String? = nil) {
            self.caps = caps
            self.arches = arches
            self.minKernel = minKernel
        }
    }

    public struct Rule: Codable, Sendable {
        public var names: [String]
        public var action: Action
        public var errnoRet: UInt32?
        public var args: [Argument]?
        public var includes: Condition?
        public var excludes: Condition?

        public init(
            _ names: [String], _ action: Action, errnoRet: UInt32? = nil, args: [Argument]? = nil,
            includes: Condition? = nil, excludes: Condition? = nil
        ) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
            self.includes = includes
            self.excludes = excludes
        }

        enum CodingKeys: String, CodingKey {
            case names, name, action, errnoRet, args, includes, excludes
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Old profiles name one syscall per rule in "name".
            if let names = try container.decodeIfPresent([String].self, forKey: .names) {
                self.names = names
            } else {
                self.names = [try container.decode(String.self, forKey: .name)]
            }
            action = try container.decode(Action.self, forKey: .action)
            errnoRet = try container.decodeIfPresent(UInt32.self, forKey: .errnoRet)
            args = try container.decodeIfPresent([Argument].self, forKey: .args)
            includes = try container.decodeIfPresent(Condition.self, forKey: .includes)
            excludes = try container.decodeIfPresent(Condition.self, forKey: .excludes)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(names, forKey: .names)
            try container.encode(action, forKey: .action)
            try container.encodeIfPresent(errnoRet, forKey: .errnoRet)
            try container.encodeIfPresent(args, forKey: .args)
            try container.encodeIfPresent(includes, forKey: .includes)
            try container.encodeIfPresent(excludes, forKey: .excludes)
        }
    }

    /// Reads a profile file, naming the file and the JSON problem when it is invalid.
    public static func load(path: String) throws -> SeccompProfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunnerError.invalidSeccompProfile(path: path, reason: "cannot read the file")
        }
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw RunnerError.invalidSeccompProfile(
                path: path, reason: "\(context.debugDescription) at \(Self.codingPath(context))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw RunnerError.invalidSeccompProfile(
                path: path, reason: "missing \"\(key.stringValue)\" at \(Self.codingPath(context))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw RunnerError.invalidSeccompProfile(
                path: path, reason: "\(context.debugDescription) at \(Self.codingPath(context))")
        }
    }

    private static func codingPath(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "the top level" : path
    }
}
