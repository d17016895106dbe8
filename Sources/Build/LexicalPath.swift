/// Path arithmetic on strings, without touching the file system.
enum LexicalPath {
    /// Cleans `path` as Go's `path.Clean` does, which .dockerignore patterns and COPY paths
    /// follow: repeated and trailing slashes go, `.` elements go, `..` removes the element
    /// before it, a `..` above the root of an absolute path is dropped, and "" becomes ".".
    static func clean(_ path: String) -> String {
        let rooted = path.hasPrefix("/")
        var elements = [Substring]()
        for element in path.split(separator: "/") {
            switch element {
            case ".":
                continue
            case "..":
                if let last = elements.last, last != ".." {
                    elements.removeLast()
                } else if !rooted {
                    elements.append(element)
                }
            default:
                elements.append(element)
            }
        }
        let joined = elements.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Joins `path` to `base` unless it is absolute, then cleans the result.
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return clean(path) }
        return clean(base + "/" + path)
    }
}
