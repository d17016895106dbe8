import Foundation

/// A user name and password (or identity token) for one registry.
///
/// `description` never shows the password, so the value can be logged or printed by
/// accident without leaking it.
public struct RegistryCredentials: Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization` value for the Basic scheme (RFC 7617).
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public var description: String { "credentials for \(username)" }
    public var debugDescription: String { description }
}
