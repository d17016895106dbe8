/// An image in crib's store, as a copy source.
public final class StoreImageSource: ImageSource {
    let store: ContentStore
    public let image: StoredImage
    public let name: String

    public init(store: ContentStore, image: StoredImage) {
        self.store = store
        self.image = image
        self.name = image.names.first ?? image.id.shortID
    }

    public func manifest(for platform: Platform) throws -> ImageManifestData {
        let data = try store.readBlob(image.manifestDescriptor)
        return try ImageManifestData(data: data, mediaType: image.manifestDescriptor.mediaType, source: name)
    }

    public func copyBlob(_ descriptor: Descriptor, into sink: any ByteSink, progress: ((Int64) -> Void)?) throws {
        try pump(try store.openBlob(descriptor), into: sink, progress: progress)
    }

    public func localPath(of descriptor: Descriptor) -> String? {
        store.hasBlob(descriptor.digest) ? store.blobPath(descriptor.digest) : nil
    }
}
