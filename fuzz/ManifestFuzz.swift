import Foundation
@testable import OCI

/// Decodes the input as each JSON document crib reads from stores, archives and registries:
/// an image manifest, an index, an image config and a docker archive's manifest.json. A value
/// that decodes must encode to canonical JSON that decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)

    if let manifest = try? ImageManifestData(data: data, mediaType: .ociManifest, source: "fuzz") {
        _ = manifest.blobs
        checkRoundTrip(manifest.manifest)
    }
    if let index = try? CanonicalJSON.decode(Index.self, from: data, source: "fuzz") {
        _ = index.manifest(for: .current)
        checkRoundTrip(index)
    }
    if let config = try? CanonicalJSON.decode(ImageConfig.self, from: data, source: "fuzz") {
        checkRoundTrip(config)
    }
    if let entries = try? CanonicalJSON.decode([DockerArchiveManifest].self, from: data, source: "fuzz") {
        for entry in entries {
            _ = entry.repoTags?.map { try? ImageReference(parsing: $0) }
        }
    }
    return 0
}

private func checkRoundTrip<T: Codable & Equatable>(_ value: T) {
    guard let encoded = try? CanonicalJSON.encode(value) else {
        fatalError("failed to encode a decoded \(T.self)")
    }
    guard let decoded = try? CanonicalJSON.decode(T.self, from: encoded, source: "fuzz"), decoded == value else {
        fatalError("\(T.self) changed through encode and decode: \(String(decoding: encoded, as: UTF8.self))")
    }
}
