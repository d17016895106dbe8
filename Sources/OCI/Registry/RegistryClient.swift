import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client for one registry that speaks the OCI distribution spec (`/v2/` API): manifests
/// and blobs by repository, anonymous, Basic or bearer-token authentication, retries with
/// backoff on 5xx responses and dropped connections.
///
/// The client is safe to use from several threads at once; the pull and push operations use
/// that to move several blobs in parallel.
public final class RegistryClient: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Whether to verify TLS certificates. When false, crib also falls back to plain
        /// http if https cannot be reached, as podman does with `--tls-verify=false`.
        public var tlsVerify = true
        public var credentials: RegistryCredentials?
        /// Attempts per request, counting the first, for 5xx responses and dropped connections.
        public var maxAttempts = 4
        /// The delay before the first retry; it doubles with each further one.
        public var retryDelay: TimeInterval = 0.25
        /// Blobs up to this size go up in one PUT; larger ones in PATCH chunks of `chunkSize`.
        public var monolithicLimit: Int64 = 32 << 20
        /// Each chunk is read into memory before it is sent, so a push holds up to
        /// `parallelBlobs` chunks at once. Fewer, larger PATCH requests pushed faster to
        /// docker-registry 2.8 (128 MiB against 64 MiB: about 1.3 s against 1.5 s for 200 MiB).
        public var chunkSize: Int64 = 128 << 20
        /// Blobs transferred at the same time.
        public var parallelBlobs = 4

        public init(tlsVerify: Bool = true, credentials: RegistryCredentials? = nil) {
            self.tlsVerify = tlsVerify
            self.credentials = credentials
        }
    }

    /// `host[:port]` as it appears in image references.
    public let registry: String
    public let configuration: Configuration
    let log: any LogSink

    private let session = HTTPSession()
    private let lock = NSLock()
    private let pingLock = NSLock()
    private var baseURL: URL?
    /// `Authorization` values by the scopes they were issued for. The key "" stores Basic
    /// credentials, which cover every scope.
    private var authorizations: [String: String] = [:]

    public init(registry: String, configuration: Configuration = Configuration(), log: any LogSink = SilentLog()) {
        self.registry = registry
        self.configuration = configuration
        self.log = log
    }

    deinit { session.invalidate() }

    // MARK: - Scopes

    /// Returns the token scope for reading a repository.
    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    /// Returns the token scope for writing a repository.
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    // MARK: - Ping

    /// Checks that the registry responds to `/v2/` and picks the scheme: https, or plain
    /// http when TLS verification is off and https cannot be reached.
    @discardableResult
    public func ping() throws -> URL {
        if let known = lock.withLock({ baseURL }) { return known }
        // One ping at a time: parallel blob transfers all start here, and concurrent failing
        // TLS handshakes on one URLSession were seen to hang forever (swift-corelibs 6.3).
        pingLock.lock()
        defer { pingLock.unlock() }
        if let known = lock.withLock({ baseURL }) { return known }

        // NOTE: with TLS verification off crib still verifies https certificates, because
        // swift-corelibs URLSession offers no way to skip it; only the plain-http fallback is
        // added. A registry on https with a self-signed certificate is therefore unreachable.
        var schemes = ["https"]
        if !configuration.tlsVerify { schemes.append("http") }
        var lastError: (any Error)?
        for scheme in schemes {
            guard let base = URL(string: "\(scheme)://\(registry)") else {
                throw OCIError.invalidReference(registry, reason: "not a valid registry host")
            }
            var request = URLRequest(url: base.appendingPathComponent("v2/"))
            request.httpMethod = "GET"
            request.timeoutInterval = 30
            do {
                let response = try session.send(request, deadline: 30)
                guard response.isSuccess || response.status == 401 else {
                    throw OCIError.registryFailure(
                        operation: "reach", object: "\(registry)/v2/", status: response.status,
                        detail: OCIError.registryDetail(response.body))
                }
                log.log(.debug, "registry \(registry) responds over \(scheme) with HTTP \(response.status)")
                if response.status == 401, let credentials = configuration.credentials,
                    let challenge = response.header("WWW-Authenticate").map(AuthChallenge.parse)?.first,
                    challenge.scheme == "basic"
                {
                    // Sending Basic credentials up front saves a 401 round trip on every request.
                    lock.withLock { authorizations[""] = credentials.basicAuthorization }
                }
                lock.withLock { baseURL = base }
                return base
            } catch let error as HTTPTransportError {
                log.log(.debug, "registry \(registry) unreachable over \(scheme): \(error)")
                lastError = error
            }
        }
        throw OCIError.connectionFailed(
            operation: "reach", object: "registry \(registry)",
            underlying: "\(lastError.map { "\($0)" } ?? "no scheme tried")")
    }

    // MARK: - Requests

    /// One request the client sends, relative to the registry's base URL or absolute (an
    /// upload location).
    struct Request {
        var method: String
        var path: String
        var absolute: URL?
        var query: [URLQueryItem] = []
        var headers: [String: String] = [:]
        var body: HTTPBody = .none
        var scopes: [String]
        /// Whether a dropped connection sends the request again; off where that is unsafe.
        var retriesDroppedConnections = true
        /// The operation and its object as error messages name them: "pull manifest", "host/repo:tag".
        var operation: String
        var object: String

        init(_ method: String, _ path: String, scopes: [String], operation: String, object: String) {
            self.method = method
            self.path = path
            self.scopes = scopes
            self.operation = operation
            self.object = object
        }
    }

    /// Sends `request`, authenticating on a 401 challenge and retrying 5xx responses and
    /// dropped connections with exponential backoff. Returns any other response, so callers
    /// decide which statuses are fine.
    func perform(
        _ request: Request, on transfer: HTTPSession? = nil,
        bodyHandler: ((HTTPURLResponse, Data) throws -> Void)? = nil
    ) throws -> HTTPResponse {
        let base = try ping()
        var authenticated = false
        var attempt = 1

        while true {
            let urlRequest = try makeURLRequest(request, base: base)
            let response: HTTPResponse
            do {
                response = try (transfer ?? session).send(urlRequest, body: request.body, bodyHandler: bodyHandler)
            } catch let error as HTTPTransportError {
                // A body handler that has seen part of a body cannot take it again from the start;
                // blob downloads resume on their own instead.
                guard error.isRetryable, request.retriesDroppedConnections, bodyHandler == nil,
                    attempt < configuration.maxAttempts
                else {
                    if let underlying = error.underlying as? OCIError { throw underlying }
                    if error.fromBodyHandler { throw error.underlying }
                    throw OCIError.connectionFailed(
                        operation: request.operation, object: request.object, underlying: "\(error)")
                }
                backoff(attempt, request, reason: "\(error)")
                attempt += 1
                continue
            }

            if response.status == 401 && !authenticated {
                authenticated = true
                let challenges = AuthChallenge.parse(response.header("WWW-Authenticate") ?? "")
                try authenticate(challenges, scopes: request.scopes)
                continue
            }
            if response.status == 401 || response.status == 403 {
                throw OCIError.unauthorized(
                    registry: registry,
                    detail: "\(request.operation) \(request.object) was refused (HTTP \(response.status))"
                        + (configuration.credentials == nil ? "; run crib login \(registry)" : ""))
            }
            if (response.status >= 500 || response.status == 429) && attempt < configuration.maxAttempts {
                backoff(attempt, request, reason: "HTTP \(response.status)")
                attempt += 1
                continue
            }
            return response
        }
    }

    private func backoff(_ attempt: Int, _ request: Request, reason: String) {
        let delay = configuration.retryDelay * pow(2, Double(attempt - 1))
        log.log(
            .info,
            "retrying \(request.operation) \(request.object) in \(String(format: "%.2f", delay)) s after \(reason) (attempt \(attempt + 1) of \(configuration.maxAttempts))"
        )
        Thread.sleep(forTimeInterval: delay)
    }

    private func makeURLRequest(_ request: Request, base: URL) throws -> URLRequest {
        let target = request.absolute ?? base.appendingPathComponent(request.path)
        guard var components = URLComponents(url: target, resolvingAgainstBaseURL: true) else {
            throw OCIError.invalidContent(object: "URL \(target)", reason: "cannot be parsed")
        }
        if !request.query.isEmpty {
            components.queryItems = (components.queryItems ?? []) + request.query
            // URLComponents leaves "+" alone, which servers read as a space.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        guard let url = components.url else {
            throw OCIError.invalidContent(object: "URL \(target)", reason: "cannot be built")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if let authorization = authorization(for: request.scopes) {
            urlRequest.setValue(authorization, forHTTPHeaderField: "Authorization")
        }
        return urlRequest
    }

    /// Resolves an upload `Location` header, which may be relative to the registry.
    func resolveLocation(_ location: String?, request: Request) throws -> URL {
        guard let location, let base = lock.withLock({ baseURL }), let url = URL(string: location, relativeTo: base)
        else {
            throw OCIError.invalidContent(
                object: "response to \(request.operation) \(request.object)", reason: "missing Location header")
        }
        return url.absoluteURL
    }

    // MARK: - Authentication

    private static func scopeKey(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    private func authorization(for scopes: [String]) -> String? {
        lock.withLock { authorizations[Self.scopeKey(scopes)] ?? authorizations[""] }
    }

    /// Handles a 401 challenge: Basic with the configured credentials, or a bearer token from
    /// the challenge's realm for the union of the requested and challenged scopes.
    private func authenticate(_ challenges: [AuthChallenge], scopes: [String]) throws {
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            let token = try fetchToken(bearer, scopes: scopes)
            lock.withLock { authorizations[Self.scopeKey(scopes)] = "Bearer " + token }
            return
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials = configuration.credentials else {
                throw OCIError.unauthorized(
                    registry: registry, detail: "the registry requires a login; run crib login \(registry)")
            }
            lock.withLock { authorizations[""] = credentials.basicAuthorization }
            return
        }
        let offered = challenges.map(\.scheme).joined(separator: ", ")
        throw OCIError.unauthorized(
            registry: registry,
            detail: offered.isEmpty ? "HTTP 401 without a challenge" : "unsupported scheme \(offered)")
    }

    private func fetchToken(_ challenge: AuthChallenge, scopes: [String]) throws -> String {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            components.scheme == "https" || components.scheme == "http"
        else {
            throw OCIError.unauthorized(registry: registry, detail: "bearer challenge without a usable realm")
        }
        var wanted = scopes
        for scope in (challenge.parameters["scope"] ?? "").split(separator: " ").map(String.init)
        where !wanted.contains(scope) {
            wanted.append(scope)
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        for scope in wanted { query.append(URLQueryItem(name: "scope", value: scope)) }
        components.queryItems = query
        guard let url = components.url else {
            throw OCIError.unauthorized(registry: registry, detail: "bearer realm \(realm) is not a valid URL")
        }

        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        if let credentials = configuration.credentials {
            request.setValue(credentials.basicAuthorization, forHTTPHeaderField: "Authorization")
        }
        let response: HTTPResponse
        do {
            response = try session.send(request)
        } catch {
            throw OCIError.connectionFailed(operation: "fetch a token from", object: realm, underlying: "\(error)")
        }
        guard response.isSuccess else {
            let hint = configuration.credentials == nil ? "; run crib login \(registry)" : ""
            throw OCIError.unauthorized(
                registry: registry, detail: "token server \(realm) answered HTTP \(response.status)\(hint)")
        }
        struct TokenResponse: Decodable {
            let token: String?
            let access_token: String?
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: response.body),
            let token = decoded.token ?? decoded.access_token, !token.isEmpty
        else {
            throw OCIError.unauthorized(registry: registry, detail: "token server \(realm) sent no token")
        }
        log.log(.debug, "got a bearer token from \(realm) for \(wanted.joined(separator: " "))")
        return token
    }

    /// Checks the configured credentials against the registry: a login that the registry
    /// refuses must not be stored.
    public func verifyCredentials() throws {
        let base = try ping()
        var request = URLRequest(url: base.appendingPathComponent("v2/"))
        request.httpMethod = "GET"
        if let credentials = configuration.credentials {
            request.setValue(credentials.basicAuthorization, forHTTPHeaderField: "Authorization")
        }
        let response = try session.send(request)
        if response.isSuccess { return }
        guard response.status == 401 else {
            throw OCIError.registryFailure(
                operation: "log in to", object: registry, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
        let challenges = AuthChallenge.parse(response.header("WWW-Authenticate") ?? "")
        guard let bearer = challenges.first(where: { $0.scheme == "bearer" }) else {
            throw OCIError.unauthorized(registry: registry, detail: "the registry rejected the user name or password")
        }
        _ = try fetchToken(bearer, scopes: [])
    }
}

// MARK: - Registry errors

extension OCIError {
    /// Condenses the registry's error body, `{"errors":[{"code":…,"message":…}]}`, to one phrase.
    static func registryDetail(_ body: Data) -> String {
        struct Envelope: Decodable {
            struct Entry: Decodable {
                let code: String?
                let message: String?
            }
            let errors: [Entry]?
        }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: body), let errors = envelope.errors,
            !errors.isEmpty
        {
            return errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(
                separator: "; ")
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: " ")
        return text
    }
}
