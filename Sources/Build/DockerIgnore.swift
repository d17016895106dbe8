import Foundation
import OCI

/// The patterns of a `.dockerignore` file, which keep paths of the build context away from
/// COPY and ADD.
///
/// It follows the reference's rules. A line starting with `#` is a comment and blanks around a
/// pattern are trimmed. The pattern is cleaned as Go's `filepath.Clean` cleans it, and a
/// leading `/` is dropped. `!` makes an exception and `**` matches any number of directories.
/// The last pattern that matches a path decides, and a pattern that matches a directory
/// also matches everything below it.
public struct DockerIgnore: Sendable {
    public struct Rule: Hashable, Sendable {
        public let pattern: GlobPattern
        /// True for `!pattern`, which brings matching paths back into the context.
        public let isException: Bool
    }

    public let rules: [Rule]

    /// An empty set of rules, which excludes nothing.
    public init() {
        rules = []
    }

    /// Parses the text of an ignore file; `file` names it in errors.
    public init(parsing text: String, file: String = ".dockerignore") throws {
        var rules = [Rule]()
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, line) in lines.enumerated() {
            // Only a `#` in the first column starts a comment; ` #x` is a pattern.
            if line.hasPrefix("#") { continue }
            var pattern = line.trimmingCharacters(in: .whitespaces)
            if pattern.isEmpty { continue }

            let isException = pattern.hasPrefix("!")
            if isException { pattern = pattern.dropFirst().trimmingCharacters(in: .whitespaces) }
            guard !pattern.isEmpty else {
                throw BuildError.invalidIgnorePattern(
                    file: file, line: number + 1, pattern: String(line), reason: "an exception needs a pattern after !")
            }
            pattern = LexicalPath.clean(pattern)
            if pattern.count > 1 && pattern.hasPrefix("/") { pattern.removeFirst() }

            do {
                rules.append(Rule(pattern: try GlobPattern(pattern, allowsDoubleStar: true), isException: isException))
            } catch let error as GlobPattern.SyntaxError {
                throw BuildError.invalidIgnorePattern(file: file, line: number + 1, pattern: String(line), reason: error.description)
            }
        }
        self.rules = rules
    }

    /// Reads the ignore file that applies to a build: `<Dockerfile>.dockerignore` beside the
    /// Dockerfile wins, then `.containerignore` (podman's name) and `.dockerignore` at the
    /// root of the context. Returns empty rules when none exists.
    public static func load(contextDirectory: String, dockerfilePath: String?) throws -> (DockerIgnore, path: String?) {
        var candidates = [String]()
        if let dockerfilePath { candidates.append(dockerfilePath + ".dockerignore") }
        candidates.append(contextDirectory + "/.containerignore")
        candidates.append(contextDirectory + "/.dockerignore")

        for path in candidates where FileManager.default.fileExists(atPath: path) {
            let text: String
            do {
                text = try TextFile.read(path)
            } catch let error as SystemError {
                throw BuildError.io(error)
            }
            return (try DockerIgnore(parsing: text, file: path), path)
        }
        return (DockerIgnore(), nil)
    }

    /// Whether `path`, relative to the context root with `/` separators, stays out of the context.
    public func excludes(_ path: String) -> Bool {
        let file = LexicalPath.clean(path)
        let parents = file.split(separator: "/").dropLast()
        var excluded = false

        for rule in rules {
            // An exception can only change an excluded path and a pattern only an included one.
            if rule.isException != excluded { continue }
            var matched = rule.pattern.matches(file)
            if !matched {
                var prefix = ""
                for parent in parents {
                    prefix += prefix.isEmpty ? String(parent) : "/" + parent
                    if rule.pattern.matches(prefix) {
                        matched = true
                        break
                    }
                }
            }
            if matched { excluded = !rule.isException }
        }
        return excluded
    }

    /// Whether any rule is an exception; when none is, a walk can skip an excluded directory whole.
    public var hasExceptions: Bool { rules.contains(where: \.isException) }
}
