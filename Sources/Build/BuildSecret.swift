import Foundation

/// A secret given with `crib build --secret`, which `RUN --mount=type=secret,id=ID` mounts.
/// Its value is read only when a step that mounts it runs, and never enters a layer, the
/// history or a cache key.
public struct BuildSecret: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        case file(String)
        case environment(String)
    }

    public let id: String
    public let source: Source

    public init(id: String, source: Source) {
        self.id = id
        self.source = source
    }

    /// Parses `id=ID,src=PATH`, `id=ID,env=VARIABLE` or `id=ID` alone (the variable named
    /// ID), with an optional `type=file` or `type=env`, as podman's `--secret` takes them.
    ///
    /// - Throws: `BuildError.invalidOption` naming the value and what was expected.
    public init(parsing text: String) throws {
        func invalid(_ reason: String) -> BuildError {
            BuildError.invalidOption("invalid --secret \"\(text)\": \(reason)")
        }
        var fields = [String: String]()
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw invalid("expected key=value, got \"\(field)\"") }
            let key = parts[0] == "source" ? "src" : String(parts[0])
            guard ["id", "src", "env", "type"].contains(key) else {
                throw invalid("unknown key \"\(parts[0])\"; expected id, src, env or type")
            }
            fields[key] = String(parts[1])
        }
        guard let id = fields["id"], !id.isEmpty else { throw invalid("id= is required") }
        if fields["src"] != nil && fields["env"] != nil { throw invalid("give either src= or env=, not both") }

        switch fields["type"] {
        case nil:
            if let path = fields["src"] {
                source = .file(path)
            } else {
                source = .environment(fields["env"] ?? id)
            }
        case "file":
            guard let path = fields["src"] ?? fields["env"] else { throw invalid("type=file requires src=PATH") }
            source = .file(path)
        case "env":
            source = .environment(fields["env"] ?? fields["src"] ?? id)
        case let other?:
            throw invalid("unknown type \"\(other)\"; expected file or env")
        }
        self.id = id
    }

    /// Reads the secret's value.
    ///
    /// - Throws: `BuildError.invalidOption` naming the secret and its file or variable.
    func value() throws -> Data {
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BuildError.invalidOption(
                    "failed to read secret \(id) from \(path): the file is missing or unreadable")
            }
            return data
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw BuildError.invalidOption("failed to read secret \(id): environment variable \(name) is not set")
            }
            return Data(value.utf8)
        }
    }
}
