import Foundation

/// An image in a registry (`docker://`), as a copy source.
public final class RegistryImageSource: ImageSource {
    public let client: RegistryClient
    public let reference: ImageReference
    public var name: String { "docker://\(reference)" }

    public init(client: RegistryClient, reference: ImageReference) {
        self.client = client
        self.reference = reference
    }

    public func manifest(for platform: Platform) throws -> ImageManifestData {
        let tagOrDigest = reference.digest?.description ?? reference.tag ?? "latest"
        let fetched = try client.fetchManifest(repository: reference.path, reference: tagOrDigest)
        let mediaType = MediaType(fetched.mediaType)
        guard mediaType.isIndex else {
            return try ImageManifestData(data: fetched.data, mediaType: mediaType, source: name)
        }

        // An index or manifest list: pick the platform's manifest and fetch it by digest,
        // which `fetchManifest` checks the content against.
        let index = try CanonicalJSON.decode(Index.self, from: fetched.data, source: name)
        guard let chosen = index.manifest(for: platform) else {
            throw OCIError.platformNotFound(
                reference: name, platform: platform.description,
                available: index.manifests.compactMap { $0.platform?.description })
        }
        let child = try client.fetchManifest(repository: reference.path, reference: chosen.digest.description)
        return try ImageManifestData(data: child.data, mediaType: chosen.mediaType, source: "\(name)@\(chosen.digest)")
    }

    public func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws {
        try client.fetchBlob(
            repository: reference.path, digest: descriptor.digest, size: descriptor.size, into: sink, progress: progress
        )
    }

    public func localPath(of descriptor: Descriptor) -> String? { nil }
}
