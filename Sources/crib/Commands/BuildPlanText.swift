import Build
import Foundation

/// Prints a build plan the way a build prints its steps (`STEP n/m:`), each followed by the
/// Dockerfile line and the instruction with its variables expanded.
enum BuildPlanText {
    static func render(_ plan: BuildPlan, context: BuildContext, unknownBases: [String]) -> String {
        var text = "context: \(context.directory), Dockerfile: \(context.dockerfileName)"
        text += context.ignorePath.map { ", ignore file: \($0)\n" } ?? "\n"

        for (position, stage) in plan.stages.enumerated() {
            let prefix = plan.stages.count > 1 ? "[\(position + 1)/\(plan.stages.count)] " : ""
            let total = stage.steps.count + 1
            text += "\(prefix)STEP 1/\(total): \(stage.stage.fromInstruction.text)\n"
            switch stage.base {
            case .scratch:
                text += "    \(stage.stage.fromInstruction.location)  base: scratch\n"
            case .stage(let index):
                text += "    \(stage.stage.fromInstruction.location)  base: stage \(index)\n"
            case .image(let reference):
                let note = unknownBases.contains(reference) ? " (not in the local store, so its config is unknown here)" : ""
                text += "    \(stage.stage.fromInstruction.location)  base: image \(reference)\(note)\n"
            }
            for (index, step) in stage.steps.enumerated() {
                let trigger = step.isTrigger ? " (ONBUILD trigger of the base image)" : ""
                text += "\(prefix)STEP \(index + 2)/\(total): \(step.instruction.text)\(trigger)\n"
                text += "    \(step.instruction.location)  \(escaped(step.summary))\n"
                if case .run(let run) = step.action {
                    for mount in run.mounts { text += "        mount \(mount.keyText)\n" }
                }
            }
        }

        let settings = plan.target.settings
        text += "image config of stage \(plan.target.stage.displayName):\n"
        text += "    env: \(settings.environment)\n"
        if let user = settings.user { text += "    user: \(user)\n" }
        text += "    workdir: \(settings.workingDirectory ?? "/")\n"
        if let entrypoint = settings.entrypoint { text += "    entrypoint: \(entrypoint)\n" }
        if let cmd = settings.cmd { text += "    cmd: \(cmd)\n" }
        if !settings.exposedPorts.isEmpty { text += "    exposed ports: \(settings.exposedPorts.joined(separator: " "))\n" }
        if !settings.volumes.isEmpty { text += "    volumes: \(settings.volumes.joined(separator: " "))\n" }
        for (key, value) in settings.labels.sorted(by: { $0.key < $1.key }) {
            text += "    label \(key)=\(value)\n"
        }
        return text
    }

    /// Shows newlines of heredoc scripts as `\n` so that each step stays on one line.
    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "\\n")
    }
}
