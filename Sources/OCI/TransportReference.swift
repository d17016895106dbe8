/// Where an image is read from or written to, in skopeo's transport syntax.
///
/// `oci:DIR[:ref]`, `oci-archive:FILE[:ref]`, `docker-archive:FILE[:ref]`, `docker://NAME`,
/// and a plain name, which means crib's own store (`containers-storage:` is accepted for it).
public enum TransportReference: Hashable, Sendable, CustomStringConvertible {
    case store(String)
    case ociLayout(path: String, reference: String?)
    case ociArchive(path: String, reference: String?)
    case dockerArchive(path: String, reference: String?)
    case registry(ImageReference)

    public init(parsing text: String) throws {
        if text.hasPrefix("docker://") {
            let name = String(text.dropFirst("docker://".count))
            self = .registry(try ImageReference(parsing: name))
            return
        }
        for (prefix, make) in TransportReference.pathTransports {
            guard text.hasPrefix(prefix) else { continue }
            let rest = text.dropFirst(prefix.count)
            // The path ends at the first colon, as skopeo splits it; the rest names the image inside.
            let path: Substring
            var reference: String?
            if let colon = rest.firstIndex(of: ":") {
                path = rest[..<colon]
                let name = rest[rest.index(after: colon)...]
                reference = name.isEmpty ? nil : String(name)
            } else {
                path = rest
            }
            guard !path.isEmpty else {
                throw OCIError.invalidReference(text, reason: "missing path after \(prefix)")
            }
            self = make(String(path), reference)
            return
        }
        if text.hasPrefix("containers-storage:") {
            self = .store(String(text.dropFirst("containers-storage:".count)))
            return
        }
        if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0 == "-" }),
            text[text.index(after: colon)...].hasPrefix("//") || ["dir", "docker-daemon", "ostree", "sif", "tarball"].contains(String(text[..<colon]))
        {
            throw OCIError.invalidReference(text, reason: "unsupported transport \"\(text[..<colon])\"")
        }
        if !TransportReference.isImageID(text) {
            _ = try ImageReference(local: text)
        }
        self = .store(text)
    }

    private static let pathTransports: [(String, (String, String?) -> TransportReference)] = [
        ("oci:", { .ociLayout(path: $0, reference: $1) }),
        ("oci-archive:", { .ociArchive(path: $0, reference: $1) }),
        ("docker-archive:", { .dockerArchive(path: $0, reference: $1) }),
    ]

    /// Returns whether `text` is an image id as podman prints it: a config digest or a prefix of its hex.
    public static func isImageID(_ text: String) -> Bool {
        if text.hasPrefix("sha256:") { return (try? Digest(parsing: text)) != nil }
        return (3...64).contains(text.count) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    public var description: String {
        switch self {
        case .store(let name): return name
        case .ociLayout(let path, let reference): return "oci:\(path)" + (reference.map { ":\($0)" } ?? "")
        case .ociArchive(let path, let reference): return "oci-archive:\(path)" + (reference.map { ":\($0)" } ?? "")
        case .dockerArchive(let path, let reference): return "docker-archive:\(path)" + (reference.map { ":\($0)" } ?? "")
        case .registry(let reference): return "docker://\(reference)"
        }
    }
}
