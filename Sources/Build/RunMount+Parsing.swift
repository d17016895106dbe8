import Foundation

extension RunMount {
    /// Parses one `--mount` value such as `type=cache,target=/root/.cache,sharing=locked`:
    /// comma-separated `key=value` fields and the bare flags `ro`, `rw` and `required`, as the
    /// Dockerfile reference describes them. Each value is expanded by `expand` first.
    ///
    /// - Parameters:
    ///   - workingDirectory: the step's working directory, which a relative target is below.
    ///   - origin: returns the origin a `from=` value names (a stage or an image).
    /// - Throws: `BuildError.invalidInstruction` naming the line and the option at fault.
    static func parse(
        _ text: String, workingDirectory: String, at location: SourceLocation, expand: (String) throws -> String,
        origin resolveOrigin: (String) throws -> Origin
    ) throws -> RunMount {
        func invalid(_ reason: String) -> BuildError {
            BuildError.invalidInstruction(location, "invalid RUN --mount=\(text): \(reason)")
        }

        // NOTE: fields are split at every comma; buildkit's CSV quoting of a value that
        // contains a comma is not supported.
        var options = [String: String]()
        for field in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let canonical = Self.aliases[key] ?? key
            guard Self.knownKeys.contains(canonical) else {
                throw invalid(
                    "unknown option \"\(key)\"; expected one of \(Self.knownKeys.sorted().joined(separator: ", "))")
            }
            guard options[canonical] == nil else { throw invalid("option \"\(canonical)\" is given more than once") }
            if parts.count == 2 {
                options[canonical] = try expand(String(parts[1]))
            } else {
                guard Self.flagKeys.contains(canonical) else {
                    throw invalid("option \"\(key)\" requires a value: \(key)=VALUE")
                }
                options[canonical] = "true"
            }
        }

        func flag(_ key: String) throws -> Bool? {
            guard let value = options[key] else { return nil }
            switch value.lowercased() {
            case "", "true", "1": return true
            case "false", "0": return false
            default: throw invalid("\(key) expects true or false, got \"\(value)\"")
            }
        }
        func number(_ key: String, radix: Int = 10, default fallback: UInt32) throws -> UInt32 {
            guard let value = options[key] else { return fallback }
            guard let parsed = UInt32(value, radix: radix) else {
                throw invalid(
                    "\(key) expects \(radix == 8 ? "an octal mode such as 0755" : "a number"), got \"\(value)\"")
            }
            return parsed
        }
        func rejectOptions(_ keys: [String], for kind: String) throws {
            for key in keys where options[key] != nil {
                throw invalid("type=\(kind) does not take \(key)")
            }
        }

        let typeName = options["type"] ?? "bind"
        guard let kind = Kind(rawValue: typeName) else {
            if typeName == "ssh" {
                throw invalid(
                    "type=ssh is not supported: crib forwards no SSH agent; use a secret mount for a key, or an https URL"
                )
            }
            throw invalid("unknown type \"\(typeName)\"; expected bind, cache, tmpfs or secret")
        }

        var target = options["target"].map { LexicalPath.resolve($0, against: workingDirectory) }
        if options["target"] == "" { throw invalid("target is empty") }
        var mount = RunMount(
            kind: kind, target: "", source: ".", origin: .context, readOnly: false, id: nil, sharing: .shared,
            mode: 0o755,
            uid: try number("uid", default: 0), gid: try number("gid", default: 0), size: nil, required: false,
            environmentVariable: nil, mountsFile: true)
        let readOnly = try flag("readonly")
        let readWrite = try flag("readwrite")
        if readOnly != nil && readWrite != nil { throw invalid("give either ro or rw, not both") }

        switch kind {
        case .bind:
            try rejectOptions(["id", "sharing", "mode", "uid", "gid", "size", "required", "env"], for: "bind")
            mount.readOnly = readOnly ?? !(readWrite ?? false)
            if let source = options["source"] {
                let cleaned = LexicalPath.clean("/" + source).dropFirst()
                mount.source = cleaned.isEmpty ? "." : String(cleaned)
            }
            if let from = options["from"] {
                guard !from.isEmpty else { throw invalid("from is empty") }
                mount.origin = try resolveOrigin(from)
            }
        case .cache:
            // NOTE: buildkit can seed a cache from a stage (from=, source=); crib starts every cache empty.
            try rejectOptions(["from", "source", "size", "required", "env"], for: "cache")
            mount.readOnly = readOnly ?? !(readWrite ?? true)
            mount.mode = try number("mode", radix: 8, default: 0o755)
            if let sharing = options["sharing"] {
                guard let parsed = Sharing(rawValue: sharing) else {
                    throw invalid("sharing expects shared, private or locked, got \"\(sharing)\"")
                }
                mount.sharing = parsed
            }
            mount.id = options["id"].flatMap { $0.isEmpty ? nil : $0 } ?? target
        case .tmpfs:
            try rejectOptions(
                ["from", "source", "id", "sharing", "mode", "uid", "gid", "required", "env"], for: "tmpfs")
            mount.readOnly = readOnly ?? false
            if let size = options["size"] {
                guard let bytes = Self.byteCount(size) else {
                    throw invalid("size expects bytes, optionally with a k, m or g suffix, got \"\(size)\"")
                }
                mount.size = bytes
            }
        case .secret:
            try rejectOptions(["from", "source", "sharing", "size"], for: "secret")
            mount.readOnly = true
            if readWrite == true { throw invalid("a secret is always mounted read-only") }
            mount.mode = try number("mode", radix: 8, default: 0o400)
            mount.required = try flag("required") ?? false
            mount.environmentVariable = options["env"].flatMap { $0.isEmpty ? nil : $0 }
            let id =
                options["id"].flatMap { $0.isEmpty ? nil : $0 } ?? target.map { ($0 as NSString).lastPathComponent }
            guard let id else { throw invalid("a secret needs id= or target=") }
            mount.id = id
            mount.mountsFile = target != nil || mount.environmentVariable == nil
            if target == nil { target = "/run/secrets/" + id }
        }

        guard let target else { throw invalid("target= is required for type=\(kind.rawValue)") }
        guard target != "/" else { throw invalid("target cannot be /") }
        mount.target = target
        if mount.mode > 0o7777 { throw invalid("mode \(String(mount.mode, radix: 8)) is not a file mode") }
        return mount
    }

    /// Parses a size such as `65536`, `64k`, `64m` or `1g` (binary multiples), as tmpfs takes it.
    static func byteCount(_ text: String) -> UInt64? {
        let lowered = text.lowercased()
        let multipliers: [Character: UInt64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        var digits = Substring(lowered)
        var multiplier: UInt64 = 1
        if let last = lowered.last, let factor = multipliers[last] {
            digits = lowered.dropLast()
            multiplier = factor
        }
        guard let value = UInt64(digits), value > 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    private static let aliases = [
        "dst": "target", "destination": "target", "src": "source", "ro": "readonly", "rw": "readwrite",
    ]
    private static let knownKeys: Set<String> = [
        "type", "target", "source", "from", "readonly", "readwrite", "id", "sharing", "mode", "uid", "gid", "size",
        "required", "env",
    ]
    /// Options that may be written without a value, meaning true.
    private static let flagKeys: Set<String> = ["readonly", "readwrite", "required"]
}
