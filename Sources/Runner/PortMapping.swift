/// A published port: `[IP:]HOSTPORT:CONTAINERPORT[/tcp]`.
public struct PortMapping: Sendable, Equatable, CustomStringConvertible {
    public var hostAddress: String
    public var hostPort: UInt16
    public var containerPort: UInt16

    public init(hostAddress: String = "0.0.0.0", hostPort: UInt16, containerPort: UInt16) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    public init(parsing text: String) throws {
        var body = Substring(text)
        if let slash = body.lastIndex(of: "/") {
            let proto = body[body.index(after: slash)...]
            guard proto == "tcp" else {
                throw RunnerError.invalidOption("--publish", value: text, reason: "only tcp is supported")
            }
            body = body[..<slash]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else {
            throw RunnerError.invalidOption(
                "--publish", value: text, reason: "expected [IP:]HOSTPORT:CONTAINERPORT[/tcp]")
        }
        func port(_ part: Substring) throws -> UInt16 {
            guard let value = UInt16(part), value > 0 else {
                throw RunnerError.invalidOption(
                    "--publish", value: text, reason: "\"\(part)\" is not a port from 1 to 65535")
            }
            return value
        }
        hostAddress = parts.count == 3 ? String(parts[0]) : "0.0.0.0"
        hostPort = try port(parts[parts.count - 2])
        containerPort = try port(parts[parts.count - 1])
    }

    public var description: String { "\(hostAddress):\(hostPort)->\(containerPort)/tcp" }
}
