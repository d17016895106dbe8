/// The `--name=value` flags of one instruction, checked against the flags it accepts.
struct InstructionFlags {
    enum Kind {
        case string
        case bool
        /// May be given more than once, as `--mount` and `--exclude` may.
        case list
    }

    private(set) var strings: [String: String] = [:]
    private(set) var bools: [String: Bool] = [:]
    private(set) var lists: [String: [String]] = [:]

    /// Parses `words` (each `--name`, `--name=value`) for `keyword`, which accepts `accepted`.
    init(_ words: [String], keyword: String, accepted: [String: Kind], location: SourceLocation) throws {
        for word in words {
            let body = word.dropFirst(2)
            let name: String
            let value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
                value = nil
            }

            guard let kind = accepted[name] else {
                let known = accepted.keys.sorted().map { "--\($0)" }.joined(separator: ", ")
                let hint = known.isEmpty ? "it accepts no flags" : "it accepts \(known)"
                throw BuildError.syntax(location, "\(keyword) does not accept the flag --\(name): \(hint)")
            }
            switch kind {
            case .bool:
                guard bools[name] == nil else {
                    throw BuildError.syntax(location, "\(keyword) flag --\(name) is given more than once")
                }
                switch value?.lowercased() {
                case nil, "true": bools[name] = true
                case "false": bools[name] = false
                case let other?:
                    throw BuildError.syntax(location, "\(keyword) flag --\(name) expects true or false, got \"\(other)\"")
                }
            case .string:
                guard let value else {
                    throw BuildError.syntax(location, "\(keyword) flag --\(name) requires a value: --\(name)=VALUE")
                }
                guard strings[name] == nil else {
                    throw BuildError.syntax(location, "\(keyword) flag --\(name) is given more than once")
                }
                strings[name] = value
            case .list:
                guard let value else {
                    throw BuildError.syntax(location, "\(keyword) flag --\(name) requires a value: --\(name)=VALUE")
                }
                lists[name, default: []].append(value)
            }
        }
    }

    var isEmpty: Bool { strings.isEmpty && bools.isEmpty && lists.isEmpty }
}
