import Foundation
import OCI

/// Plans the instructions of one stage in order, tracking the settings and ARGs in scope.
struct StepPlanner {
    let planner: BuildPlanner
    let stageIndex: Int
    var settings: ImageSettings
    /// The global ARG values, which a stage ARG without a default inherits.
    let globals: [String: String]
    /// ARGs declared in this stage that have a value.
    var arguments: [String: String] = [:]
    var dependencies: [Int] = []
    /// Whether this stage set CMD; ENTRYPOINT clears an inherited CMD but not this stage's.
    var setsCmd = false

    init(planner: BuildPlanner, stageIndex: Int, settings: ImageSettings, globals: [String: String]) {
        self.planner = planner
        self.stageIndex = stageIndex
        self.settings = settings
        self.globals = globals
    }

    /// The variables expansion sees: the ARGs in scope, overridden by the environment.
    var variables: [String: String] {
        arguments.merging(settings.environmentDictionary) { _, environment in environment }
    }

    var shell: [String] { settings.shell ?? ImageSettings.defaultShell }

    mutating func plan(_ instruction: Instruction, isTrigger: Bool, state: inout BuildPlanner.PlanningState) throws -> PlannedStep {
        let location = instruction.location
        let variables = self.variables
        var action = PlannedStep.Action.configure
        var summary: String

        func expand(_ text: String) throws -> String {
            try planner.expand(text, variables, at: location)
        }

        switch instruction.kind {
        case .from:
            throw BuildError.invalidInstruction(location, "FROM inside a stage")

        case .arg(let declarations):
            var parts = [String]()
            for declaration in declarations {
                // Each default sees the ARGs declared before it on the same line.
                let value: String?
                if let given = planner.options.buildArgs[declaration.name] {
                    value = given
                    state.consumedArgs.insert(declaration.name)
                } else if let defaultValue = declaration.defaultValue {
                    value = try planner.expand(defaultValue, self.variables, at: location)
                } else {
                    value = arguments[declaration.name] ?? globals[declaration.name]
                }
                if let value {
                    arguments[declaration.name] = value
                    parts.append("\(declaration.name)=\(value)")
                } else {
                    arguments[declaration.name] = nil
                    parts.append(declaration.name)
                }
            }
            summary = "ARG " + parts.joined(separator: " ")

        case .env(let pairs):
            // Every pair of one ENV line sees the variables as they were before the line.
            let expanded = try pairs.map { (try expand($0.key), try expand($0.value)) }
            for (key, value) in expanded {
                guard !key.isEmpty else { throw BuildError.invalidInstruction(location, "ENV name expands to an empty string") }
                settings.setEnvironment(key, value)
            }
            summary = "ENV " + expanded.map { "\($0.0)=\($0.1)" }.joined(separator: " ")

        case .label(let pairs):
            let expanded = try pairs.map { (try expand($0.key), try expand($0.value)) }
            for (key, value) in expanded {
                guard !key.isEmpty else { throw BuildError.invalidInstruction(location, "LABEL name expands to an empty string") }
                settings.labels[key] = value
            }
            summary = "LABEL " + expanded.map { "\($0.0)=\($0.1)" }.joined(separator: " ")

        case .workdir(let path):
            let expanded = try expand(path)
            guard !expanded.isEmpty else { throw BuildError.invalidInstruction(location, "WORKDIR expands to an empty path") }
            let resolved = LexicalPath.resolve(expanded, against: settings.workingDirectory ?? "/")
            settings.workingDirectory = resolved
            action = .workdir(resolved)
            summary = "WORKDIR \(resolved)"

        case .user(let user):
            let expanded = try expand(user)
            guard !expanded.isEmpty else { throw BuildError.invalidInstruction(location, "USER expands to an empty value") }
            settings.user = expanded
            summary = "USER \(expanded)"

        case .expose(let words):
            var ports = [String]()
            for word in words {
                for port in try planner.expandWords(word, variables, at: location) {
                    ports += try Self.exposedPorts(port, at: location)
                }
            }
            settings.exposedPorts = Array(Set(settings.exposedPorts).union(ports)).sorted()
            summary = "EXPOSE " + ports.joined(separator: " ")

        case .volume(let paths):
            let expanded = try paths.map { try expand($0) }
            guard !expanded.contains(where: \.isEmpty) else {
                throw BuildError.invalidInstruction(location, "VOLUME path expands to an empty string")
            }
            settings.volumes = Array(Set(settings.volumes).union(expanded)).sorted()
            summary = "VOLUME " + Self.json(expanded)

        case .stopSignal(let signal):
            let expanded = try expand(signal)
            guard Self.isSignal(expanded) else {
                throw BuildError.invalidInstruction(
                    location, "invalid STOPSIGNAL \"\(expanded)\": expected a signal name such as SIGTERM or a number")
            }
            settings.stopSignal = expanded
            summary = "STOPSIGNAL \(expanded)"

        case .cmd(let command):
            let argv = argv(command)
            settings.cmd = argv
            setsCmd = true
            summary = "CMD " + Self.json(argv)

        case .entrypoint(let command):
            let argv = argv(command)
            settings.entrypoint = argv
            if !setsCmd { settings.cmd = nil }
            summary = "ENTRYPOINT " + Self.json(argv)

        case .shell(let shell):
            settings.shell = shell
            summary = "SHELL " + Self.json(shell)

        case .healthcheck(let check):
            let test: [String]
            switch check.command {
            case nil: test = ["NONE"]
            case .exec(let argv)?: test = ["CMD"] + argv
            case .shell(let text)?: test = ["CMD-SHELL", text]
            }
            settings.healthcheck = HealthcheckSettings(
                test: test, interval: check.interval, timeout: check.timeout, startPeriod: check.startPeriod,
                startInterval: check.startInterval, retries: check.retries)
            summary = instruction.text

        case .onbuild(let trigger):
            settings.onBuild.append(trigger.text)
            summary = "ONBUILD \(trigger.text)"

        case .maintainer(let author):
            settings.author = author
            summary = "MAINTAINER \(author)"

        case .run(let run):
            let step = try runStep(run, at: location, state: &state)
            action = .run(step)
            summary = "RUN " + runSummary(step)

        case .copy(let copy):
            let step = try copyStep(copy, variables: variables, at: location, state: &state)
            action = .copy(step)
            summary = copySummary(step, keyword: instruction.keyword)
        }

        return PlannedStep(
            instruction: instruction, action: action, summary: summary, settings: settings, arguments: arguments,
            isTrigger: isTrigger)
    }

    // MARK: - RUN

    private func argv(_ command: Instruction.CommandLine) -> [String] {
        switch command {
        case .exec(let argv): return argv
        case .shell(let text): return shell + [text]
        }
    }

    private mutating func runStep(
        _ run: Instruction.Run, at location: SourceLocation, state: inout BuildPlanner.PlanningState
    ) throws -> RunStep {
        let command: RunStep.Command
        switch run.command {
        case .exec(let argv):
            command = .argv(argv)
        case .shell(let text):
            if run.heredocs.count == 1, text.trimmingCharacters(in: .whitespaces) == run.heredocs[0].word {
                // `RUN <<EOF` alone: the body is the script. With a #! line it runs under
                // that interpreter, otherwise under SHELL.
                let heredoc = run.heredocs[0]
                let content = heredoc.content
                command = content.hasPrefix("#!") ? .script(name: heredoc.name, content: content) : .argv(shell + [content])
            } else if !run.heredocs.isEmpty {
                // A command that reads heredocs: the shell gets the line and the bodies as the
                // Dockerfile wrote them, so it does the expansion and tab stripping itself.
                let bodies = run.heredocs.map { $0.rawContent + $0.name + "\n" }.joined()
                command = .argv(shell + [text + "\n" + bodies])
            } else {
                command = .argv(shell + [text])
            }
        }

        switch run.security {
        case nil, "sandbox":
            break
        case "insecure":
            // buildkit runs such a step privileged only when the build grants the
            // security.insecure entitlement; crib has no such grant, so it refuses the step.
            throw BuildError.invalidInstruction(location, "RUN --security=insecure is not supported; remove it or run the step with crib run --privileged")
        case let other?:
            throw BuildError.invalidInstruction(location, "invalid RUN --security=\(other): expected sandbox or insecure")
        }
        let network = run.network ?? planner.options.network
        if let requested = run.network, !["default", "none", "host"].contains(requested) {
            throw BuildError.invalidInstruction(location, "invalid RUN --network=\(requested): expected default, none or host")
        }

        var environment = settings.environment
        for (name, value) in arguments.sorted(by: { $0.key < $1.key }) where settings.environmentValue(name) == nil {
            environment.append("\(name)=\(value)")
        }
        for (name, value) in planner.options.buildArgs.sorted(by: { $0.key < $1.key })
        where BuildPlanner.predefinedArgs.contains(name) && arguments[name] == nil && settings.environmentValue(name) == nil {
            environment.append("\(name)=\(value)")
        }

        let variables = self.variables
        let planner = self.planner
        let stageIndex = self.stageIndex
        var mounts = [RunMount]()
        var mountDependencies = [Int]()
        for text in run.mounts {
            let mount = try RunMount.parse(
                text, workingDirectory: settings.workingDirectory ?? "/", at: location,
                expand: { try planner.expand($0, variables, at: location) },
                origin: { name in
                    guard let index = try planner.stageIndex(named: name, usedBy: stageIndex, at: location, as: "RUN --mount from=")
                    else { return .image(name) }
                    mountDependencies.append(index)
                    try planner.planStage(index, &state)
                    return .stage(index)
                })
            mounts.append(mount)
        }
        for index in mountDependencies where !dependencies.contains(index) { dependencies.append(index) }
        // Parents mount before what they contain, so a mount inside another one stays visible.
        mounts = mounts.enumerated().sorted { left, right in
            let leftDepth = left.element.target.split(separator: "/").count
            let rightDepth = right.element.target.split(separator: "/").count
            return leftDepth != rightDepth ? leftDepth < rightDepth : left.offset < right.offset
        }.map(\.element)

        return RunStep(
            command: command, environment: environment, workingDirectory: settings.workingDirectory ?? "/",
            user: settings.user, network: network == "default" ? nil : network, mounts: mounts)
    }

    /// The command as podman's history writes it: `|2 A=1 B=2 /bin/sh -c make` when ARGs
    /// are in scope. Predefined proxy ARGs are left out.
    private func runSummary(_ step: RunStep) -> String {
        let visible = arguments.filter { !BuildPlanner.predefinedArgs.contains($0.key) }.sorted { $0.key < $1.key }
        var text = visible.isEmpty ? "" : "|\(visible.count) " + visible.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " "
        switch step.command {
        case .argv(let argv): text += argv.joined(separator: " ")
        case .script(let name, let content): text += "<<\(name)\n\(content)\(name)"
        }
        return text
    }

    // MARK: - COPY and ADD

    private mutating func copyStep(
        _ copy: Instruction.Copy, variables: [String: String], at location: SourceLocation,
        state: inout BuildPlanner.PlanningState
    ) throws -> CopyStep {
        let keyword = copy.isAdd ? "ADD" : "COPY"
        func expand(_ text: String) throws -> String {
            try planner.expand(text, variables, at: location)
        }

        var origin = CopyStep.Origin.context
        if let from = copy.from {
            let name = try expand(from)
            guard !name.isEmpty else { throw BuildError.invalidInstruction(location, "\(keyword) --from expands to an empty name") }
            if let index = try planner.stageIndex(named: name, usedBy: stageIndex, at: location, as: "\(keyword) --from=") {
                origin = .stage(index)
                if !dependencies.contains(index) { dependencies.append(index) }
                try planner.planStage(index, &state)
            } else {
                origin = .image(name)
            }
        }

        var sources = [CopyStep.Source]()
        for source in copy.sources {
            switch source {
            case .heredoc(let heredoc):
                let content: String
                if heredoc.expands {
                    do {
                        content = try planner.expander.expandHeredoc(heredoc.content, variables)
                    } catch let failure as VariableExpander.Failure {
                        throw BuildError.invalidInstruction(location, "failed to expand heredoc \(heredoc.name): \(failure.description)")
                    }
                } else {
                    content = heredoc.content
                }
                sources.append(.heredoc(name: heredoc.name, content: content))
            case .path(let path):
                let expanded = try expand(path)
                guard !expanded.isEmpty else {
                    throw BuildError.invalidInstruction(location, "\(keyword) source \(path) expands to an empty path")
                }
                if copy.isAdd, expanded.hasPrefix("http://") || expanded.hasPrefix("https://") {
                    guard origin == .context else {
                        throw BuildError.invalidInstruction(location, "ADD --from cannot fetch a URL: \(expanded)")
                    }
                    sources.append(.url(expanded))
                } else {
                    // Sources are relative to the root of the context or stage, which `..` cannot leave.
                    let cleaned = LexicalPath.clean("/" + expanded).dropFirst()
                    sources.append(.path(cleaned.isEmpty ? "." : String(cleaned)))
                }
            }
        }

        let destination = try expand(copy.destination)
        guard !destination.isEmpty else {
            throw BuildError.invalidInstruction(location, "\(keyword) destination \(copy.destination) expands to an empty path")
        }
        let lastElement = destination.split(separator: "/").last
        let isDirectory = destination.hasSuffix("/") || lastElement == "." || lastElement == ".."
        if sources.count > 1 && !isDirectory {
            throw BuildError.invalidInstruction(
                location, "\(keyword) with more than one source requires a destination directory ending in /, got \(destination)")
        }

        var mode: UInt32?
        if let chmod = copy.chmod {
            let expanded = try expand(chmod)
            guard let value = UInt32(expanded, radix: 8), value <= 0o7777 else {
                throw BuildError.invalidInstruction(location, "invalid --chmod=\(expanded): expected an octal mode such as 0755")
            }
            mode = value
        }
        let chown = try copy.chown.map { try expand($0) }
        if chown == "" { throw BuildError.invalidInstruction(location, "\(keyword) --chown expands to an empty value") }
        let checksum = try copy.checksum.map { try expand($0).lowercased() }
        if checksum != nil, sources.contains(where: { if case .url = $0 { return false } else { return true } }) {
            throw BuildError.invalidInstruction(location, "ADD --checksum requires http or https sources")
        }
        // One digest cannot pin several different files, so --checksum takes a single source.
        if checksum != nil, sources.count > 1 {
            throw BuildError.invalidInstruction(location, "ADD --checksum requires exactly one source, got \(sources.count)")
        }
        if let checksum, (try? Digest(parsing: checksum)) == nil {
            throw BuildError.invalidInstruction(
                location,
                "invalid --checksum=\(checksum): expected sha256:<64 hex digits>, sha384:<96 hex digits> or sha512:<128 hex digits>")
        }

        return CopyStep(
            isAdd: copy.isAdd, origin: origin, sources: sources,
            destination: LexicalPath.resolve(destination, against: settings.workingDirectory ?? "/"),
            destinationIsDirectory: isDirectory, chown: chown, chmod: mode, link: copy.link, parents: copy.parents,
            excludes: try copy.excludes.map { try expand($0) }, checksum: checksum, keepGitDirectory: copy.keepGitDirectory,
            unpack: copy.unpack)
    }

    private func copySummary(_ step: CopyStep, keyword: String) -> String {
        var words = [keyword]
        switch step.origin {
        case .context: break
        case .stage(let index): words.append("--from=\(index)")
        case .image(let reference): words.append("--from=\(reference)")
        }
        if let chown = step.chown { words.append("--chown=\(chown)") }
        if let chmod = step.chmod { words.append("--chmod=" + String(chmod, radix: 8)) }
        if let checksum = step.checksum { words.append("--checksum=\(checksum)") }
        for exclude in step.excludes { words.append("--exclude=\(exclude)") }
        if step.link { words.append("--link") }
        if step.parents { words.append("--parents") }
        for source in step.sources {
            switch source {
            case .path(let path): words.append(path)
            case .url(let url): words.append(url)
            case .heredoc(let name, _): words.append("<<\(name)")
            }
        }
        words.append(step.destination + (step.destinationIsDirectory && step.destination != "/" ? "/" : ""))
        return words.joined(separator: " ")
    }

    // MARK: - Values

    /// Expands one EXPOSE word into `port/protocol` entries; `8000-8002` gives three.
    static func exposedPorts(_ word: String, at location: SourceLocation) throws -> [String] {
        let parts = word.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else {
            throw BuildError.invalidInstruction(location, "invalid EXPOSE protocol in \"\(word)\": expected tcp, udp or sctp")
        }
        let range = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = UInt16(range[0]), low > 0, let high = range.count > 1 ? UInt16(range[1]) : low, high >= low else {
            throw BuildError.invalidInstruction(location, "invalid EXPOSE port \"\(word)\": expected a port or range from 1 to 65535")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    private static let signalNames: Set<String> = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "POLL", "PWR", "SYS", "RTMIN", "RTMAX",
    ]

    /// Whether `text` names a Linux signal: a number from 1 to 64, or a name with or without
    /// `SIG`, including `RTMIN+n` and `RTMAX-n`.
    static func isSignal(_ text: String) -> Bool {
        if let number = Int(text) { return (1...64).contains(number) }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if signalNames.contains(name) { return true }
        for base in ["RTMIN+", "RTMAX-"] where name.hasPrefix(base) {
            if let offset = Int(name.dropFirst(base.count)), (1...30).contains(offset) { return true }
        }
        return false
    }

    /// A JSON array of strings, the form history and summaries use for argv lists.
    static func json(_ strings: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let data = try? encoder.encode(strings) else { return strings.description }
        return String(decoding: data, as: UTF8.self)
    }
}
