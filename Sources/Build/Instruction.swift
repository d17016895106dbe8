/// One Dockerfile instruction: its typed arguments, where it was written and its source text.
///
/// Values are kept as written (quotes, escapes and `$VARIABLES` included) because expansion
/// depends on the ARG and ENV values in scope, which only the planner knows.
public struct Instruction: Hashable, Sendable {
    public let location: SourceLocation
    /// The logical line as written, continuations joined, without heredoc bodies; the `STEP`
    /// lines of a build print it.
    public let text: String
    public let kind: Kind

    public init(location: SourceLocation, text: String, kind: Kind) {
        self.location = location
        self.text = text
        self.kind = kind
    }

    public indirect enum Kind: Hashable, Sendable {
        case from(From)
        case arg([ArgDeclaration])
        case env([KeyValue])
        case label([KeyValue])
        case copy(Copy)
        case run(Run)
        case cmd(CommandLine)
        case entrypoint(CommandLine)
        case shell([String])
        case workdir(String)
        case user(String)
        case expose([String])
        case volume([String])
        case stopSignal(String)
        case healthcheck(Healthcheck)
        case onbuild(Instruction)
        case maintainer(String)
    }

    /// The instruction's keyword in upper case, as the reference spells it.
    public var keyword: String {
        switch kind {
        case .from: return "FROM"
        case .arg: return "ARG"
        case .env: return "ENV"
        case .label: return "LABEL"
        case .copy(let copy): return copy.isAdd ? "ADD" : "COPY"
        case .run: return "RUN"
        case .cmd: return "CMD"
        case .entrypoint: return "ENTRYPOINT"
        case .shell: return "SHELL"
        case .workdir: return "WORKDIR"
        case .user: return "USER"
        case .expose: return "EXPOSE"
        case .volume: return "VOLUME"
        case .stopSignal: return "STOPSIGNAL"
        case .healthcheck: return "HEALTHCHECK"
        case .onbuild: return "ONBUILD"
        case .maintainer: return "MAINTAINER"
        }
    }
}
