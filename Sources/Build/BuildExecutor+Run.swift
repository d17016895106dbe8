extension BuildExecutor {
    func executeRun(_ run: RunStep, step: PlannedStep, state: inout ImageState) throws {
        // NOTE: RUN needs the container runtime of the Runner module, which this branch does
        // not have yet; builds without RUN steps work.
        throw BuildError.invalidInstruction(step.instruction.location, "RUN is not supported by this build of crib yet")
    }
}
