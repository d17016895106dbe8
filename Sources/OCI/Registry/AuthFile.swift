import Foundation

/// Registry credentials in the JSON files podman and docker keep them in:
/// `{"auths": {"HOST": {"auth": base64("user:password")}}}`.
///
/// crib writes `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json` (podman's
/// file; `/run/containers/UID/auth.json` without XDG_RUNTIME_DIR), and reads that file, then
/// `$XDG_CONFIG_HOME/containers/auth.json`, then docker's `$DOCKER_CONFIG/config.json`
/// (default `~/.docker/config.json`). The first file with an entry for the host wins.
public struct AuthFile: Sendable {
    /// The file `login` writes and `logout` edits.
    public let path: String
    /// Every file looked in, `path` first.
    public let searchPaths: [String]

    public init(path: String, searchPaths: [String]? = nil) {
        self.path = path
        self.searchPaths = searchPaths ?? [path]
    }

    /// Returns the files podman and docker use for this user, given an environment.
    public static func standard(
        explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> AuthFile {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let primary: String
        if let explicit, !explicit.isEmpty {
            primary = explicit
        } else if let fromEnvironment = environment["REGISTRY_AUTH_FILE"], !fromEnvironment.isEmpty {
            primary = fromEnvironment
        } else if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            primary = runtime + "/containers/auth.json"
        } else {
            primary = "/run/containers/\(getuid())/auth.json"
        }
        // An explicit file is the only one used, as podman's --authfile is.
        if let explicit, !explicit.isEmpty { return AuthFile(path: primary) }

        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        let dockerDirectory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.docker"
        var paths = [primary]
        for candidate in [configHome + "/containers/auth.json", dockerDirectory + "/config.json"]
        where !paths.contains(candidate) {
            paths.append(candidate)
        }
        return AuthFile(path: primary, searchPaths: paths)
    }

    // NOTE: docker's `credsStore` and `credHelpers` (external credential programs) are not
    // run, so only inline `auth` entries are read.
    /// Returns the credentials stored for `registry` (`host[:port]`) in the first file that has any.
    public func credentials(for registry: String) throws -> RegistryCredentials? {
        for candidate in searchPaths {
            guard let auths = try Self.load(candidate)["auths"] as? [String: Any] else { continue }
            for (key, value) in auths where Self.normalizedHost(key) == Self.normalizedHost(registry) {
                guard let entry = value as? [String: Any] else { continue }
                if let credentials = try Self.decode(entry, key: key, path: candidate) { return credentials }
            }
        }
        return nil
    }

    /// Stores `credentials` for `registry` in `path`, keeping every other entry and key.
    public func store(_ credentials: RegistryCredentials, for registry: String) throws {
        var document = try Self.load(path)
        var auths = document["auths"] as? [String: Any] ?? [:]
        for key in auths.keys where Self.normalizedHost(key) == Self.normalizedHost(registry) {
            auths.removeValue(forKey: key)
        }
        let encoded = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
        auths[registry] = ["auth": encoded]
        document["auths"] = auths
        try write(document)
    }

    /// Removes the entry for `registry` from `path`; returns whether there was one.
    @discardableResult
    public func remove(_ registry: String) throws -> Bool {
        var document = try Self.load(path)
        guard var auths = document["auths"] as? [String: Any] else { return false }
        let keys = auths.keys.filter { Self.normalizedHost($0) == Self.normalizedHost(registry) }
        guard !keys.isEmpty else { return false }
        for key in keys { auths.removeValue(forKey: key) }
        document["auths"] = auths
        try write(document)
        return true
    }

    /// Removes every entry from `path`.
    public func removeAll() throws {
        var document = try Self.load(path)
        guard document["auths"] != nil else { return }
        document["auths"] = [String: Any]()
        try write(document)
    }

    // MARK: - Files

    private static func load(_ path: String) throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw OCIError.io(SystemError("read", path: path, errno: EACCES))
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) { return [:] }
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw OCIError.malformedJSON(path: path, underlying: "expected an object at the top level")
            }
            return object
        } catch let error as OCIError {
            throw error
        } catch {
            throw OCIError.malformedJSON(path: path, underlying: "\(error.localizedDescription)")
        }
    }

    private static func decode(_ entry: [String: Any], key: String, path: String) throws -> RegistryCredentials? {
        guard let auth = entry["auth"] as? String, !auth.isEmpty else { return nil }
        guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else {
            // The value is a secret: the message names the entry, never its content.
            throw OCIError.malformedJSON(
                path: path, underlying: "entry \"\(key)\" has an auth value that is not base64 of user:password")
        }
        return RegistryCredentials(
            username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    private func write(_ document: [String: Any]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])

        // The file contains passwords: it is created 0600 before anything is written to it, and
        // replaces the old one by rename so that a crash never leaves half a file.
        let temporary = path + ".tmp\(getpid())"
        let sink = try FileSink(path: temporary, mode: 0o600)
        do {
            try data.withUnsafeBytes { try sink.write($0) }
            try sink.sync()
            try checkSyscall("chmod", path: temporary) { fchmod(sink.descriptor, 0o600) }
            try checkSyscall("rename", path: path) { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Returns the registry a login names: `docker://host:5000/repo` and `host:5000` both mean `host:5000`.
    public static func normalizedRegistry(_ text: String) -> String {
        var host = Substring(text)
        if host.hasPrefix("docker://") { host = host.dropFirst("docker://".count) }
        return normalizedHost(String(host))
    }

    /// `https://index.docker.io/v1/` and `docker.io` name the same registry, and docker's
    /// keys may carry a scheme and a path.
    static func normalizedHost(_ key: String) -> String {
        var host = Substring(key)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) {
            host = host.dropFirst(scheme.count)
        }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return "docker.io"
        default: return String(host)
        }
    }
}
