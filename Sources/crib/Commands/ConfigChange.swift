import Foundation
import OCI

/// One `--change` of `crib import`: a Dockerfile instruction that only sets image config
/// (ENV, CMD, ENTRYPOINT, USER, WORKDIR, EXPOSE, LABEL), as `podman import --change` takes.
struct ConfigChange {
    let instruction: String
    let arguments: String

    static let supported = ["ENV", "CMD", "ENTRYPOINT", "USER", "WORKDIR", "EXPOSE", "LABEL"]

    init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let instruction = parts.first.map { $0.uppercased() } ?? ""
        guard Self.supported.contains(instruction) else {
            throw UsageError("invalid --change \"\(text)\": expected one of \(Self.supported.joined(separator: ", ")) and its arguments", command: "import")
        }
        let arguments = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        guard !arguments.isEmpty else {
            throw UsageError("invalid --change \"\(text)\": \(instruction) needs arguments", command: "import")
        }
        self.instruction = instruction
        self.arguments = arguments
    }

    /// Applies the change to `config`.
    func apply(to config: inout ContainerConfig) throws {
        switch instruction {
        case "ENV":
            var environment = config.env ?? []
            for (key, value) in try keyValuePairs(allowLegacyForm: true) {
                environment.removeAll { $0.hasPrefix(key + "=") }
                environment.append("\(key)=\(value)")
            }
            config.env = environment
        case "LABEL":
            var labels = config.labels ?? [:]
            for (key, value) in try keyValuePairs(allowLegacyForm: false) { labels[key] = value }
            config.labels = labels
        case "CMD":
            config.cmd = try commandForm()
        case "ENTRYPOINT":
            config.entrypoint = try commandForm()
        case "USER":
            config.user = arguments
        case "WORKDIR":
            config.workingDir = arguments
        case "EXPOSE":
            var ports = config.exposedPorts ?? [:]
            for port in arguments.split(separator: " ") {
                let spelled = port.contains("/") ? String(port) : "\(port)/tcp"
                let number = spelled.split(separator: "/")[0]
                guard let value = Int(number), (1...65535).contains(value) else {
                    throw UsageError("invalid --change \"EXPOSE \(arguments)\": \(port) is not a port number", command: "import")
                }
                ports[spelled] = EmptyObject()
            }
            config.exposedPorts = ports
        default:
            break
        }
    }

    /// `["a", "b"]` as JSON, or anything else as `/bin/sh -c TEXT`, as Dockerfiles read CMD.
    private func commandForm() throws -> [String] {
        if arguments.hasPrefix("["), let array = try? JSONDecoder().decode([String].self, from: Data(arguments.utf8)) {
            return array
        }
        return ["/bin/sh", "-c", arguments]
    }

    /// `K=V K2="V 2"` pairs; with `allowLegacyForm`, a first word without `=` is the key and the rest its value.
    private func keyValuePairs(allowLegacyForm: Bool) throws -> [(String, String)] {
        let words = try Self.words(arguments, change: "\(instruction) \(arguments)")
        if allowLegacyForm, let first = words.first, !first.contains("=") {
            let value = arguments.dropFirst(first.count).trimmingCharacters(in: .whitespaces)
            return [(first, value)]
        }
        return try words.map { word in
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw UsageError("invalid --change \"\(instruction) \(arguments)\": \(word) is not KEY=VALUE", command: "import")
            }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    /// Splits on spaces outside double or single quotes and removes the quotes.
    static func words(_ text: String, change: String? = nil) throws -> [String] {
        var words = [String]()
        var current = ""
        var quote: Character?
        var inWord = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil else { throw UsageError("unterminated quote in --change \"\(change ?? text)\"", command: "import") }
        if inWord { words.append(current) }
        return words
    }
}
