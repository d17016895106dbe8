import Foundation

/// When crib checkpoints an application that does not checkpoint itself.
public enum CheckpointTrigger: Sendable, Equatable, CustomStringConvertible {
    /// `http:URL`: a GET of the URL, made inside the container's network, returns a 2xx status.
    case http(port: UInt16, path: String)
    /// `tcp:PORT`: the port accepts a connection inside the container's network.
    case tcp(port: UInt16)
    /// `log:REGEX`: the application writes a line matching REGEX to stdout or stderr.
    case log(String)
    /// `file:PATH`: the file exists in the container.
    case file(String)

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw RunnerError.invalidOption("--trigger", value: text, reason: "expected http:URL, tcp:PORT, log:REGEX or file:PATH")
        }
        let value = parts[1]
        switch parts[0] {
        case "http":
            self = try Self.parseURL(value, original: text)
        case "tcp":
            guard let port = UInt16(value), port > 0 else {
                throw RunnerError.invalidOption("--trigger", value: text, reason: "\(value) is not a port number")
            }
            self = .tcp(port: port)
        case "log":
            do {
                _ = try NSRegularExpression(pattern: value)
            } catch {
                throw RunnerError.invalidOption("--trigger", value: text, reason: "\(value) is not a regular expression")
            }
            self = .log(value)
        case "file":
            guard value.hasPrefix("/") else {
                throw RunnerError.invalidOption("--trigger", value: text, reason: "the path must be absolute in the container")
            }
            self = .file(value)
        default:
            throw RunnerError.invalidOption("--trigger", value: text, reason: "unknown kind \(parts[0]); use http, tcp, log or file")
        }
    }

    /// Accepts `http://localhost:8080/path`, `//127.0.0.1:8080/path` and `:8080/path`: the
    /// request goes to the container's own loopback whatever host the URL names, so the
    /// host part may only name loopback.
    static func parseURL(_ value: String, original: String) throws -> CheckpointTrigger {
        var rest = Substring(value)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        let hostAndPort = authority.split(separator: ":", omittingEmptySubsequences: false)
        let host = hostAndPort.first.map(String.init) ?? ""
        guard ["", "localhost", "127.0.0.1"].contains(host) else {
            throw RunnerError.invalidOption("--trigger", value: original, reason: "the URL must name localhost: crib asks from inside the container")
        }
        let port: UInt16?
        if hostAndPort.count == 2 { port = UInt16(hostAndPort[1]) } else if hostAndPort.count == 1 { port = 80 } else { port = nil }
        guard let port, port > 0 else {
            throw RunnerError.invalidOption("--trigger", value: original, reason: "the URL has no valid port")
        }
        return .http(port: port, path: path)
    }

    public var description: String {
        switch self {
        case .http(let port, let path): return "http://localhost:\(port)\(path)"
        case .tcp(let port): return "tcp:\(port)"
        case .log(let pattern): return "log:\(pattern)"
        case .file(let path): return "file:\(path)"
        }
    }
}
