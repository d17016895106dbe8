import Foundation
import OCI

/// Options of every command that talks to registries: TLS, credentials, auth file.
struct RegistryOptions {
    static let specs: [OptionSpec] = [
        .value("tls-verify", "BOOL", help: "verify TLS certificates (default true); false also allows plain http"),
        .value("authfile", "FILE", help: "read and write credentials in FILE instead of podman's auth.json"),
        .value("creds", "USER[:PASSWORD]", help: "use these credentials instead of stored ones"),
    ]

    let tlsVerify: Bool
    let authFile: AuthFile
    let credentials: RegistryCredentials?

    init(arguments: ParsedArguments, command: String) throws {
        switch arguments.value("tls-verify") {
        case nil, "true": tlsVerify = true
        case "false": tlsVerify = false
        case let other?: throw UsageError("option --tls-verify takes true or false, not \"\(other)\"", command: command)
        }
        authFile = AuthFile.standard(explicit: arguments.value("authfile"))
        if let creds = arguments.value("creds") {
            guard let colon = creds.firstIndex(of: ":") else {
                throw UsageError("option --creds takes USER:PASSWORD", command: command)
            }
            credentials = RegistryCredentials(
                username: String(creds[..<colon]), password: String(creds[creds.index(after: colon)...]))
        } else {
            credentials = nil
        }
    }

    /// The client settings for `registry`: given credentials first, then stored ones.
    func configuration(for registry: String) throws -> RegistryClient.Configuration {
        RegistryClient.Configuration(
            tlsVerify: tlsVerify, credentials: try credentials ?? authFile.credentials(for: registry))
    }

    func endpoints(_ global: GlobalOptions) throws -> TransferEndpoints {
        let store = try ContentStore(root: global.root, log: global.log)
        // Archives and uploads are staged in tmp/, which only a holder of the store may use.
        try store.holdForWriting()
        return TransferEndpoints(store: store, log: TerminalProgressLog.wrap(global)) { registry in
            try configuration(for: registry)
        }
    }
}
