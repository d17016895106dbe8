/// One entry of a docker archive's manifest.json, as `docker save` writes it.
struct DockerArchiveManifest: Codable {
    /// The config's file name inside the archive, `<hex>.json`.
    var config: String
    /// Names in docker's short form, `busybox:latest`.
    var repoTags: [String]?
    /// Layer tar file names, bottom first.
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}
