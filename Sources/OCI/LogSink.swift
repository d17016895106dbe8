/// Where library code sends progress and diagnostics. Libraries stay silent unless the
/// caller passes a sink; the command line passes one that writes to stderr.
public protocol LogSink: Sendable {
    func log(_ level: LogLevel, _ message: String)
}

public enum LogLevel: Int, Sendable, Comparable {
    case debug
    case info
    case warning

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A sink that drops everything: the default for library calls.
public struct SilentLog: LogSink {
    public init() {}
    public func log(_ level: LogLevel, _ message: String) {}
}
