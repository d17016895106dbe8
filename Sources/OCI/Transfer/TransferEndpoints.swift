import Foundation

/// Opens the source or destination a transport reference names, with the store, registry
/// settings and log that every transfer command shares.
public struct TransferEndpoints {
    public let store: ContentStore
    /// Registry settings for a registry host, such as its credentials.
    public let registryConfiguration: (String) throws -> RegistryClient.Configuration
    public let log: any LogSink

    public init(
        store: ContentStore, log: any LogSink = SilentLog(),
        registryConfiguration: @escaping (String) throws -> RegistryClient.Configuration
    ) {
        self.store = store
        self.log = log
        self.registryConfiguration = registryConfiguration
    }

    public func client(for registry: String) throws -> RegistryClient {
        RegistryClient(registry: registry, configuration: try registryConfiguration(registry), log: log)
    }

    /// The source for `reference`; a plain name is an image in the store.
    public func source(_ reference: TransportReference) throws -> any ImageSource {
        switch reference {
        case .store(let name):
            return StoreImageSource(store: store, image: try store.image(name))
        case .registry(let image):
            return RegistryImageSource(client: try client(for: image.domain), reference: image)
        case .ociLayout(let path, let name):
            return try LayoutImageSource(
                layout: OCILayoutDirectory(path: path), reference: name, transport: reference.description)
        case .ociArchive(let path, let name):
            return try LayoutImageSource(
                layout: try TarArchiveLayout(path: path, temporaryDirectory: store.root.tmp), reference: name,
                transport: reference.description)
        case .dockerArchive(let path, let name):
            return try DockerArchiveSource(path: path, reference: name, temporaryDirectory: store.root.tmp)
        }
    }

    /// The destination for `reference`; a plain name is a name in the store.
    ///
    /// - Parameter sourceNames: names the image has, used where the destination names
    ///   nothing itself (an archive without `:ref`).
    public func destination(_ reference: TransportReference, sourceNames: [String] = []) throws -> any ImageDestination
    {
        switch reference {
        case .store(let name):
            return StoreImageDestination(store: store, names: [name])
        case .registry(let image):
            return RegistryImageDestination(
                client: try client(for: image.domain), reference: image,
                mountSources: RegistryImageDestination.mountSources(in: store, registry: image.domain),
                stagingDirectory: store.root.tmp)
        case .ociLayout(let path, let name):
            return try LayoutImageDestination(directory: path, reference: name)
        case .ociArchive(let path, let name):
            return try OCIArchiveDestination(path: path, reference: name)
        case .dockerArchive(let path, let name):
            return try DockerArchiveDestination(path: path, names: name.map { [$0] } ?? sourceNames)
        }
    }
}
