import Foundation

/// An OCI platform ("Image Index", platform object): the os and CPU an image runs on.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case architecture
        case os
        case variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`, as `--platform` takes it.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw OCIError.invalidPlatform(text)
        }
        self.init(architecture: Platform.normalizedArchitecture(parts[1]), os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The platform crib runs on.
    public static var current: Platform {
        #if arch(x86_64)
            return Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
            return Platform(architecture: "arm64", os: "linux", variant: "v8")
        #else
            return Platform(architecture: "unknown", os: "linux")
        #endif
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }

    /// Whether an image for `other` runs here; a missing variant matches any variant.
    public func matches(_ other: Platform) -> Bool {
        guard os == other.os, architecture == other.architecture else { return false }
        guard let variant, let otherVariant = other.variant else { return true }
        return variant == otherVariant
    }

    /// Maps the names `uname -m` prints to the GOARCH names OCI uses.
    static func normalizedArchitecture(_ name: String) -> String {
        switch name {
        case "x86_64", "x86-64": return "amd64"
        case "aarch64": return "arm64"
        default: return name
        }
    }
}
