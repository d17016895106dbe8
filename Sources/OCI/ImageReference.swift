/// An image name as Docker's reference grammar defines it: `[domain/]path[:tag][@digest]`.
///
/// Parsing normalises as Docker does: `busybox` is `docker.io/library/busybox:latest`.
/// `ImageReference(local:)` names a locally built image as podman does: `localhost/NAME:TAG`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let dockerHub = "docker.io"
    public static let localDomain = "localhost"

    public var domain: String
    public var path: String
    public var tag: String?
    public var digest: Digest?

    /// Parses `text` and fills in `docker.io`, `library/` and `latest` where they are missing.
    public init(parsing text: String) throws {
        try self.init(text, defaultDomain: ImageReference.dockerHub)
    }

    /// Parses `text` as the name of a local image: without a domain it goes under `localhost/`.
    public init(local text: String) throws {
        try self.init(text, defaultDomain: ImageReference.localDomain)
    }

    public init(domain: String, path: String, tag: String?, digest: Digest? = nil) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    private init(_ text: String, defaultDomain: String) throws {
        guard !text.isEmpty else { throw OCIError.invalidReference(text, reason: "empty name") }

        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do {
                digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            } catch {
                throw OCIError.invalidReference(text, reason: "invalid digest after @")
            }
            rest = rest[..<at]
        }

        // A tag follows the last colon, unless that colon belongs to a registry port (`host:5000/name`).
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard ImageReference.isValidTag(candidate) else {
                throw OCIError.invalidReference(text, reason: "invalid tag \"\(candidate)\"")
            }
            tag = candidate
            rest = rest[..<colon]
        }

        var domain = defaultDomain
        var path = String(rest)
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
                domain = String(first)
                path = String(rest[rest.index(after: slash)...])
            }
        }
        guard ImageReference.isValidDomain(domain) else {
            throw OCIError.invalidReference(text, reason: "invalid registry \"\(domain)\"")
        }
        if domain == "index.docker.io" { domain = ImageReference.dockerHub }
        if domain == ImageReference.dockerHub && !path.contains("/") { path = "library/" + path }

        guard ImageReference.isValidPath(path) else {
            throw OCIError.invalidReference(
                text, reason: "a repository name takes lowercase letters and digits, joined by . _ __ or - within each /-separated part")
        }
        guard domain.count + 1 + path.count <= 255 else {
            throw OCIError.invalidReference(text, reason: "name longer than 255 characters")
        }

        self.domain = domain
        self.path = path
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.digest = digest
    }

    /// `domain/path`, without tag or digest.
    public var repository: String { "\(domain)/\(path)" }

    /// The fully qualified form, as crib stores it in index.json.
    public var description: String {
        var text = repository
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The short form Docker prints: `busybox:latest` for `docker.io/library/busybox:latest`.
    public var familiar: String {
        var name = repository
        if domain == ImageReference.dockerHub {
            name = path.hasPrefix("library/") ? String(path.dropFirst("library/".count)) : path
        }
        if let tag { name += ":\(tag)" }
        if let digest { name += "@\(digest)" }
        return name
    }

    /// Whether the text named no registry, so that lookups may try more than one domain.
    public static func isShortName(_ text: String) -> Bool {
        guard let slash = text.firstIndex(of: "/") else { return true }
        let first = text[..<slash]
        return !(first.contains(".") || first.contains(":") || first == "localhost")
    }

    // MARK: - Grammar

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128 else { return false }
        guard isWordByte(first) else { return false }
        return tag.utf8.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isValidPath(_ path: String) -> Bool {
        guard !path.isEmpty else { return false }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard isValidComponent(Array(component.utf8)) else { return false }
        }
        return true
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    private static func isValidComponent(_ bytes: [UInt8]) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlphanumeric(bytes[index]) {
                index += 1
                continue
            }
            // A separator: one '.', one '_', exactly two '_', or any run of '-'.
            var end = index
            while end < bytes.count && !isAlphanumeric(bytes[end]) { end += 1 }
            let separator = bytes[index..<end]
            let valid =
                separator.elementsEqual([UInt8(ascii: ".")]) || separator.elementsEqual([UInt8(ascii: "_")])
                || separator.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || separator.allSatisfy { $0 == UInt8(ascii: "-") }
            guard valid else { return false }
            index = end
        }
        return true
    }

    static func isValidDomain(_ domain: String) -> Bool {
        guard !domain.isEmpty else { return false }
        var host = Substring(domain)
        if host.hasPrefix("[") {
            // An IPv6 literal: `[::1]:5000`.
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            return after.isEmpty || (after.hasPrefix(":") && isPort(after.dropFirst()))
        }
        if let colon = host.lastIndex(of: ":") {
            guard isPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty
            && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
