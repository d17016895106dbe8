import Foundation
import OCI

/// Parses the input as an image reference, a local name and a transport reference, and checks
/// that a parsed reference prints as text that parses back to the same reference.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReference(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)

    if let reference = try? ImageReference(parsing: text) {
        guard let again = try? ImageReference(parsing: reference.description), again == reference else {
            fatalError("reference \(reference) does not parse back to itself")
        }
        _ = reference.familiar
        _ = reference.repository
    }
    _ = try? ImageReference(local: text)
    _ = ImageReference.isShortName(text)
    if let transport = try? TransportReference(parsing: text) {
        _ = transport.description
    }
    _ = TransportReference.isImageID(text)
    _ = try? Digest(parsing: text)
    return 0
}
