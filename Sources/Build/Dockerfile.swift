/// A parsed Dockerfile: its parser directives, the ARGs before the first FROM, and its stages.
public struct Dockerfile: Hashable, Sendable {
    /// The file name errors and locations carry.
    public let path: String
    /// Parser directives by lower-case key, such as `syntax` and `escape`.
    public let directives: [String: String]
    /// The escape character: `\` unless an `escape` directive chose the backtick.
    public let escape: Character
    /// Every instruction in file order.
    public let instructions: [Instruction]
    /// The ARG declarations before the first FROM; they are in scope for FROM lines only,
    /// unless a stage declares the same name again.
    public let globalArgs: [Instruction.ArgDeclaration]
    public let stages: [Stage]

    init(path: String, directives: [String: String], escape: Character, instructions: [Instruction]) throws {
        self.path = path
        self.directives = directives
        self.escape = escape
        self.instructions = instructions

        var globalArgs = [Instruction.ArgDeclaration]()
        var stages = [Stage]()
        var current: (instruction: Instruction, from: Instruction.From, body: [Instruction])?
        var namedStages = [String: SourceLocation]()

        for instruction in instructions {
            if case .from(let from) = instruction.kind {
                if let stage = current {
                    stages.append(Stage(index: stages.count, fromInstruction: stage.instruction, from: stage.from, instructions: stage.body))
                }
                if let name = from.stageName {
                    if let earlier = namedStages[name] {
                        throw BuildError.syntax(instruction.location, "duplicate stage name \"\(name)\", first used at \(earlier)")
                    }
                    namedStages[name] = instruction.location
                }
                current = (instruction, from, [])
                continue
            }
            if current == nil {
                guard case .arg(let declarations) = instruction.kind else {
                    throw BuildError.syntax(
                        instruction.location, "\(instruction.keyword) before the first FROM: only ARG may come before FROM")
                }
                globalArgs += declarations
                continue
            }
            current?.body.append(instruction)
        }
        if let stage = current {
            stages.append(Stage(index: stages.count, fromInstruction: stage.instruction, from: stage.from, instructions: stage.body))
        }
        guard !stages.isEmpty else {
            throw BuildError.syntax(
                SourceLocation(file: path, line: instructions.last?.location.endLine ?? 1),
                instructions.isEmpty ? "the Dockerfile has no instructions" : "the Dockerfile has no FROM instruction")
        }
        self.globalArgs = globalArgs
        self.stages = stages
    }

    /// Parses `text` as a Dockerfile named `path`.
    public init(parsing text: String, path: String = "Dockerfile") throws {
        self = try DockerfileParser.parse(text, file: path)
    }
}
