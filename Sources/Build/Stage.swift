/// One build stage: a FROM instruction and the instructions up to the next FROM.
public struct Stage: Hashable, Sendable {
    /// The stage's position in the Dockerfile, from 0; `COPY --from=1` names it this way.
    public let index: Int
    /// The name after `AS`, lower-cased.
    public let name: String?
    public let from: Instruction.From
    /// The FROM instruction itself.
    public let fromInstruction: Instruction
    /// The instructions after FROM, in order.
    public let instructions: [Instruction]

    public init(index: Int, fromInstruction: Instruction, from: Instruction.From, instructions: [Instruction]) {
        self.index = index
        self.name = from.stageName
        self.from = from
        self.fromInstruction = fromInstruction
        self.instructions = instructions
    }

    /// `name` when the stage has one, else its index, as messages and `--target` refer to it.
    public var displayName: String { name ?? String(index) }
}
