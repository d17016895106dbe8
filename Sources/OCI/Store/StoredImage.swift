/// An image in the store: its manifest, its config, and the names that point at it.
public struct StoredImage: Sendable {
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig
    /// Fully qualified names (`localhost/app:latest`); empty for a dangling image.
    public var names: [String]

    public var configDescriptor: Descriptor { manifest.config }

    /// The image id as podman prints it: the config digest.
    public var id: Digest { manifest.config.digest }

    /// The manifest's digest, as `podman inspect` shows it under `Digest`.
    public var digest: Digest { manifestDescriptor.digest }

    /// The compressed size of config and layers.
    public var size: Int64 { manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size } }
}
