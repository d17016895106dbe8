import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A failed HTTP exchange below the protocol level: no connection, a dropped connection,
/// a timeout, or the handler that received the body failed.
struct HTTPTransportError: Error, CustomStringConvertible {
    let url: URL
    let underlying: any Error
    /// The handler that consumed the body threw, so retrying cannot help.
    let fromBodyHandler: Bool

    var description: String {
        let host = url.host.map { "\($0)\(url.port.map { ":\($0)" } ?? "")" } ?? url.absoluteString
        if let urlError = underlying as? URLError {
            return "request to \(host) failed: \(urlError.localizedDescription) (URLError \(urlError.code.rawValue))"
        }
        return "request to \(host) failed: \(underlying)"
    }

    /// Whether the exchange may succeed when repeated: a dropped or refused connection or a
    /// timeout may, a TLS or URL error does not.
    var isRetryable: Bool {
        guard !fromBodyHandler, let code = (underlying as? URLError)?.code else { return false }
        switch code {
        case .networkConnectionLost, .timedOut, .cannotConnectToHost, .notConnectedToInternet,
            .cannotFindHost, .dnsLookupFailed, .badServerResponse:
            return true
        default:
            return false
        }
    }
}
