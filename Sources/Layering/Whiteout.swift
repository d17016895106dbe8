/// OCI whiteout names (image-spec layer.md, "Whiteouts").
enum Whiteout {
    /// `.wh.`: `.wh.NAME` deletes NAME from the layers below.
    static let prefix: [UInt8] = Array(".wh.".utf8)
    /// `.wh..wh..opq`: the directory holding it hides everything the layers below hold there.
    static let opaque: [UInt8] = Array(".wh..wh..opq".utf8)

    /// Splits a path into its directory with a trailing `/` (empty at the top) and its last name.
    static func split(_ path: [UInt8]) -> (directory: [UInt8], name: [UInt8]) {
        guard let slash = path.lastIndex(of: 0x2f) else { return ([], path) }
        return (Array(path[...slash]), Array(path[(slash + 1)...]))
    }
}
