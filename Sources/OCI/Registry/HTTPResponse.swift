import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A response from a registry or token server. Body bytes stream into a caller's handler
/// for successful blob downloads; everything else is buffered, capped at `bufferLimit`.
struct HTTPResponse {
    let status: Int
    let url: URL?
    let body: Data
    private let response: HTTPURLResponse

    init(response: HTTPURLResponse, body: Data) {
        self.status = response.statusCode
        self.url = response.url
        self.body = body
        self.response = response
    }

    func header(_ name: String) -> String? {
        response.value(forHTTPHeaderField: name)
    }

    var isSuccess: Bool { (200..<300).contains(status) }
}
