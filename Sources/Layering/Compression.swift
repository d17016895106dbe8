import OCI

/// How a layer's tar stream is compressed.
public enum Compression: String, Sendable, CaseIterable {
    case none
    case gzip
    case zstd

    /// The OCI layer media type for a tar stream with this compression.
    public var mediaType: String {
        switch self {
        case .none: return "application/vnd.oci.image.layer.v1.tar"
        case .gzip: return "application/vnd.oci.image.layer.v1.tar+gzip"
        case .zstd: return "application/vnd.oci.image.layer.v1.tar+zstd"
        }
    }

    /// The compression of a layer media type, OCI or Docker schema 2; nil for other types.
    public init?(mediaType: String) {
        switch mediaType {
        case "application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar":
            self = .none
        case "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip":
            self = .gzip
        case "application/vnd.oci.image.layer.v1.tar+zstd":
            self = .zstd
        default:
            return nil
        }
    }
}

/// A sink that compresses what it is given into another sink; `finish` writes the trailer.
protocol CompressingSink: ByteSink {
    func finish() throws
}

/// The identity compression.
final class PassthroughSink: CompressingSink {
    private let output: ByteSink

    init(output: ByteSink) {
        self.output = output
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try output.write(buffer)
    }

    func finish() throws {}
}
