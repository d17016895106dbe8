import Foundation
import OCI

struct LogoutCommand: Command {
    static let name = "logout"
    static let abstract = "Remove stored credentials for a registry"
    static let usage = "logout [--all] [--authfile FILE] [REGISTRY]"
    static let options: [OptionSpec] = [
        .flag("all", short: "a", help: "remove the credentials of every registry"),
        .value("authfile", "FILE", help: "edit FILE instead of podman's auth.json"),
    ]

    let registry: String?
    let all: Bool
    let authFile: AuthFile

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...1)
        all = arguments.flag("all")
        registry = arguments.positionals.first.map(AuthFile.normalizedRegistry)
        guard all != (registry != nil) else {
            throw UsageError("logout takes either REGISTRY or --all", command: Self.name)
        }
        authFile = AuthFile.standard(explicit: arguments.value("authfile"))
    }

    func run() throws -> Int32 {
        if all {
            try authFile.removeAll()
            print("Removed login credentials for all registries")
            return 0
        }
        guard let registry else { return 125 }
        guard try authFile.remove(registry) else {
            throw UsageError("not logged in to \(registry)", command: Self.name)
        }
        print("Removed login credentials for \(registry)")
        return 0
    }
}
