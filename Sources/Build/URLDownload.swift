import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OCI

/// A file that ADD fetched from an http or https URL, kept in a temporary directory until
/// its layer is written.
struct URLDownload {
    /// The host path of the fetched data.
    let path: String
    let size: Int64
    let digest: Digest
    /// The response's Last-Modified time in seconds since the epoch, when it had one.
    let lastModified: Int64?

    /// Fetches `url` with one GET into `directory`. A status other than 2xx, or a failed
    /// connection, is an error naming the Dockerfile line and the URL.
    // NOTE: the response body is held in memory before it is written, so a very large
    // download needs as much memory as its size.
    static func fetch(_ url: String, into directory: String, at location: SourceLocation, timeout: TimeInterval = 300) throws -> URLDownload {
        guard let address = URL(string: url) else {
            throw BuildError.fetchFailed(location, url: url, reason: "not a valid URL")
        }
        final class Outcome: @unchecked Sendable {
            var data: Data?
            var response: HTTPURLResponse?
            var error: (any Error)?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: address)
        request.httpMethod = "GET"
        session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response as? HTTPURLResponse
            outcome.error = error
            done.signal()
        }.resume()
        done.wait()

        if let error = outcome.error {
            throw BuildError.fetchFailed(location, url: url, reason: error.localizedDescription)
        }
        guard let response = outcome.response else {
            throw BuildError.fetchFailed(location, url: url, reason: "no HTTP response")
        }
        guard (200..<300).contains(response.statusCode) else {
            throw BuildError.fetchFailed(location, url: url, reason: "HTTP status \(response.statusCode)")
        }
        let data = outcome.data ?? Data()
        var hasher = SHA256Hasher()
        hasher.update(data)
        let path = directory + "/download"
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw BuildError.fetchFailed(location, url: url, reason: "failed to write \(path): \(error.localizedDescription)")
        }
        let lastModified = (response.value(forHTTPHeaderField: "Last-Modified")).flatMap(parseHTTPDate)
        return URLDownload(path: path, size: Int64(data.count), digest: hasher.finalize(), lastModified: lastModified)
    }

    /// Returns the name a download takes in a destination directory: the last component of the
    /// URL's path, as Docker names it. A Content-Disposition header is ignored.
    static func fileName(of url: String) -> String {
        let name = URL(string: url).map { $0.path }.flatMap { $0.split(separator: "/").last.map(String.init) } ?? ""
        return name.isEmpty ? "__unnamed__" : name
    }

    /// Parses an HTTP date in the preferred IMF-fixdate form, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}
