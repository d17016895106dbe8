import Foundation
import OCI

/// Plans a build: picks the stages the target needs, resolves each base, scopes the ARGs,
/// and expands every instruction where the Dockerfile reference expands it.
///
/// ARG scoping follows the reference. ARGs before the first FROM are in scope for FROM lines
/// only; a stage sees one of them after it declares the name again. A stage's own ARG is in
/// scope from its line to the end of the stage. `--build-arg` overrides any default, and an
/// ENV of the same name overrides the ARG.
public struct BuildPlanner {
    /// ARGs every build accepts without a declaration; their values reach RUN but neither
    /// the history nor the cache key, as the reference describes.
    public static let predefinedArgs: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
        "ALL_PROXY", "all_proxy",
    ]

    /// Returns the settings of a base image named by FROM, given its reference and `--platform`.
    public typealias ImageResolver = (_ reference: String, _ platform: String?) throws -> ImageSettings

    public let dockerfile: Dockerfile
    public let options: BuildOptions
    let expander: VariableExpander
    let resolveImage: ImageResolver

    public init(dockerfile: Dockerfile, options: BuildOptions = BuildOptions(), resolveImage: @escaping ImageResolver) {
        self.dockerfile = dockerfile
        self.options = options
        self.expander = VariableExpander(escape: dockerfile.escape)
        self.resolveImage = resolveImage
    }

    /// The automatic platform ARGs, which FROM lines see and a stage sees once it declares them.
    var platformArgs: [String: String] {
        let platform = options.platform
        return [
            "TARGETPLATFORM": platform.description, "TARGETOS": platform.os, "TARGETARCH": platform.architecture,
            "TARGETVARIANT": platform.variant ?? "", "BUILDPLATFORM": Platform.current.description,
            "BUILDOS": Platform.current.os, "BUILDARCH": Platform.current.architecture,
            "BUILDVARIANT": Platform.current.variant ?? "",
        ]
    }

    public func plan() throws -> BuildPlan {
        var state = PlanningState()

        // Global ARGs: each default may use the ones before it.
        var globals = platformArgs
        let firstFrom = dockerfile.stages[0].fromInstruction.location
        for declaration in dockerfile.globalArgs {
            if let value = options.buildArgs[declaration.name] {
                globals[declaration.name] = value
                state.consumedArgs.insert(declaration.name)
            } else if let defaultValue = declaration.defaultValue {
                let location = dockerfile.instructions.first { instruction in
                    if case .arg(let list) = instruction.kind { return list.contains(declaration) }
                    return false
                }?.location ?? firstFrom
                globals[declaration.name] = try expand(defaultValue, globals, at: location)
            }
        }
        state.globals = globals

        let targetIndex: Int
        if let target = options.target {
            guard let stage = dockerfile.stages.first(where: { $0.name == target.lowercased() }) else {
                throw BuildError.targetNotFound(target)
            }
            targetIndex = stage.index
        } else {
            targetIndex = dockerfile.stages.count - 1
        }

        try planStage(targetIndex, &state)

        var stages = state.planned.values.sorted { $0.index < $1.index }
        if !options.labels.isEmpty, let last = stages.popLast() {
            var settings = last.settings
            settings.labels.merge(options.labels) { _, new in new }
            stages.append(
                PlannedStage(
                    stage: last.stage, base: last.base, platform: last.platform, baseSettings: last.baseSettings,
                    steps: last.steps, settings: settings, dependencies: last.dependencies))
        }
        let unused = options.buildArgs.keys.filter { !state.consumedArgs.contains($0) && !Self.predefinedArgs.contains($0) }
        return BuildPlan(dockerfile: dockerfile, stages: stages, unusedBuildArgs: unused.sorted())
    }

    struct PlanningState {
        var globals: [String: String] = [:]
        var planned: [Int: PlannedStage] = [:]
        var consumedArgs: Set<String> = []
    }

    /// Plans stage `index` after the stages it depends on.
    @discardableResult
    func planStage(_ index: Int, _ state: inout PlanningState) throws -> PlannedStage {
        if let done = state.planned[index] { return done }
        let stage = dockerfile.stages[index]
        let location = stage.fromInstruction.location

        let imageName = try expand(stage.from.image, state.globals, at: location)
        guard !imageName.isEmpty else {
            throw BuildError.invalidInstruction(location, "FROM \(stage.from.image) expands to an empty image name")
        }
        let platform = try stage.from.platform.map { try expand($0, state.globals, at: location) }
        if let platform, (try? Platform(parsing: platform)) == nil {
            throw BuildError.invalidInstruction(location, "invalid FROM --platform=\(platform): expected os/arch[/variant] such as linux/arm64")
        }

        let base: PlannedStage.Base
        var baseSettings: ImageSettings
        if imageName.lowercased() == "scratch" {
            base = .scratch
            baseSettings = ImageSettings()
        } else if let referenced = try stageIndex(named: imageName, usedBy: index, at: location, as: "FROM ") {
            base = .stage(referenced)
            baseSettings = try planStage(referenced, &state).settings
        } else {
            base = .image(imageName)
            do {
                baseSettings = try resolveImage(imageName, platform)
            } catch let error as BuildError {
                if case .imageUnavailable = error { throw BuildError.invalidInstruction(location, "FROM \(error)") }
                throw error
            } catch {
                throw BuildError.invalidInstruction(location, "failed to resolve base image \(imageName): \(error)")
            }
        }

        var stepPlanner = StepPlanner(
            planner: self, stageIndex: index, settings: baseSettings, globals: state.globals)
        // A base's ONBUILD triggers run first, as if written right after FROM; they are not
        // passed on to images built from this one.
        let triggers = baseSettings.onBuild
        stepPlanner.settings.onBuild = []
        var steps = [PlannedStep]()
        for trigger in triggers {
            let line = LogicalLine(location: location, text: trigger, heredocs: [])
            let instruction: Instruction
            do {
                instruction = try InstructionParser(escape: dockerfile.escape).parse(line)
            } catch let error as BuildError {
                throw BuildError.invalidInstruction(location, "invalid ONBUILD trigger \"\(trigger)\" in the base image: \(error)")
            }
            steps.append(try stepPlanner.plan(instruction, isTrigger: true, state: &state))
        }
        for instruction in stage.instructions {
            steps.append(try stepPlanner.plan(instruction, isTrigger: false, state: &state))
        }

        var dependencies = [Int]()
        if case .stage(let referenced) = base { dependencies.append(referenced) }
        for dependency in stepPlanner.dependencies where !dependencies.contains(dependency) {
            dependencies.append(dependency)
        }
        let planned = PlannedStage(
            stage: stage, base: base, platform: platform, baseSettings: baseSettings, steps: steps,
            settings: stepPlanner.settings, dependencies: dependencies)
        state.planned[index] = planned
        return planned
    }

    /// Finds the stage `name` refers to: a stage name or, for `COPY --from`, an index. Only
    /// earlier stages may be used; nil means `name` is an image. `keyword` prefixes `name` in errors.
    func stageIndex(named name: String, usedBy current: Int, at location: SourceLocation, as keyword: String) throws -> Int? {
        let lowered = name.lowercased()
        if keyword != "FROM ", let number = Int(name) {
            guard number >= 0 && number < current else {
                throw BuildError.invalidInstruction(
                    location, "\(keyword)\(name) names stage \(number), but only stages before this one (0 to \(current - 1)) can be used")
            }
            return number
        }
        guard let stage = dockerfile.stages.first(where: { $0.name == lowered }) else { return nil }
        guard stage.index < current else {
            throw BuildError.invalidInstruction(
                location,
                "\(keyword)\(name) names stage \"\(lowered)\" at \(stage.fromInstruction.location), which is not before this one")
        }
        return stage.index
    }

    func expand(_ text: String, _ variables: [String: String], at location: SourceLocation) throws -> String {
        do {
            return try expander.expand(text, variables)
        } catch let failure as VariableExpander.Failure {
            throw BuildError.invalidInstruction(location, "failed to expand \"\(text)\": \(failure.description)")
        }
    }

    func expandWords(_ text: String, _ variables: [String: String], at location: SourceLocation) throws -> [String] {
        do {
            return try expander.expandWords(text, variables)
        } catch let failure as VariableExpander.Failure {
            throw BuildError.invalidInstruction(location, "failed to expand \"\(text)\": \(failure.description)")
        }
    }
}
