import Foundation
import OCI

struct LoginCommand: Command {
    static let name = "login"
    static let abstract = "Check credentials against a registry and store them in podman's auth.json"
    static let usage = "login [-u USER] [-p PASSWORD | --password-stdin] [--tls-verify=false] REGISTRY"
    static let options: [OptionSpec] = [
        .value("username", short: "u", "USER", help: "user name"),
        .value(
            "password", short: "p", "PASSWORD", help: "password (visible in the process list; prefer --password-stdin)"),
        .flag("password-stdin", help: "read the password from standard input"),
        .value("tls-verify", "BOOL", help: "verify TLS certificates (default true); false also allows plain http"),
        .value("authfile", "FILE", help: "store credentials in FILE instead of podman's auth.json"),
    ]

    let registry: String
    let username: String
    let password: String
    let options: RegistryOptions
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...1)
        registry = AuthFile.normalizedRegistry(arguments.positionals[0])
        guard let username = arguments.value("username"), !username.isEmpty else {
            throw UsageError("login needs -u USER", command: Self.name)
        }
        self.username = username
        if arguments.flag("password-stdin") {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else if let password = arguments.value("password") {
            self.password = password
        } else if isatty(STDIN_FILENO) == 1, let typed = getpass("Password: ") {
            // getpass turns echo off while the password is typed.
            password = String(cString: typed)
        } else {
            throw UsageError("login needs -p PASSWORD or --password-stdin", command: Self.name)
        }
        options = try RegistryOptions(arguments: arguments, command: Self.name)
        self.global = global
    }

    func run() throws -> Int32 {
        let credentials = RegistryCredentials(username: username, password: password)
        var configuration = RegistryClient.Configuration(tlsVerify: options.tlsVerify, credentials: credentials)
        configuration.maxAttempts = 2
        try RegistryClient(registry: registry, configuration: configuration, log: global.log).verifyCredentials()
        try options.authFile.store(credentials, for: registry)
        print("Login Succeeded!")
        return 0
    }
}
