import OCI

/// The `created_by` lines of image history, in the forms podman and buildah write them, so
/// that `crib history` and `podman history` read alike.
public enum HistoryText {
    /// For a step that changes only the config: `/bin/sh -c #(nop) ENV A=1`.
    public static func configuration(_ summary: String) -> String {
        "/bin/sh -c #(nop) \(summary)"
    }

    /// For RUN: the command with the ARGs in scope in front, such as `|1 V=2 /bin/sh -c make`.
    public static func run(_ summary: String) -> String {
        summary.hasPrefix("RUN ") ? String(summary.dropFirst(4)) : summary
    }

    /// For COPY and ADD: `/bin/sh -c #(nop) COPY file:HEX in /dest ` for one file, `dir:HEX`
    /// otherwise, HEX being the digest of what was copied. `kind` is `file` or `dir`.
    public static func copy(_ step: CopyStep, kind: String, content: Digest) -> String {
        let keyword = step.isAdd ? "ADD" : "COPY"
        var origin = ""
        switch step.origin {
        case .context: break
        case .stage(let index): origin = "--from=\(index) "
        case .image(let reference): origin = "--from=\(reference) "
        }
        let destination = step.destination + (step.destinationIsDirectory && step.destination != "/" ? "/" : "")
        return "/bin/sh -c #(nop) \(keyword) \(origin)\(kind):\(content.encoded) in \(destination) "
    }
}
