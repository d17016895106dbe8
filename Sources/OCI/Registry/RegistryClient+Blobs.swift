import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Manifest and blob transfers of the distribution spec ("Pulling manifests", "Pulling
/// blobs", "Pushing blobs", "Pushing manifests").
extension RegistryClient {
    /// Manifests larger than this are refused before they are read, as the distribution
    /// project's own registry refuses to store them.
    static let manifestLimit = 4 << 20

    /// Every manifest and index media type crib reads, for the `Accept` header.
    public static let manifestMediaTypes = [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]

    /// A manifest or index as the registry sent it: the exact bytes, which the digest covers.
    public struct FetchedManifest: Sendable {
        public let data: Data
        public let mediaType: String
        public let digest: Digest
    }

    // MARK: - Pull

    /// Fetches the manifest or index that `reference` (a tag or a digest) names, checked
    /// against the digest when the reference is one.
    public func fetchManifest(repository: String, reference: String) throws -> FetchedManifest {
        let separator = reference.contains(":") ? "@" : ":"
        var request = Request(
            "GET", "v2/\(repository)/manifests/\(reference)", scopes: [Self.pullScope(repository)],
            operation: "pull manifest", object: "\(registry)/\(repository)\(separator)\(reference)")
        request.headers["Accept"] = Self.manifestMediaTypes.joined(separator: ", ")
        let response = try perform(request)
        guard response.status == 200 else {
            throw OCIError.registryFailure(
                operation: request.operation, object: request.object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
        guard response.body.count < Self.manifestLimit else {
            throw OCIError.invalidContent(
                object: "manifest \(request.object)", reason: "larger than \(Self.manifestLimit) bytes")
        }

        let digest = Digest.sha256(response.body)
        if let expected = try? Digest(parsing: reference), expected != digest {
            throw OCIError.digestMismatch(object: "manifest \(request.object)", expected: expected, actual: digest)
        }
        var mediaType =
            response.header("Content-Type")?.split(separator: ";").first.map {
                String($0).trimmingCharacters(in: .whitespaces)
            } ?? ""
        // Some registries answer with a generic type; the manifest's own field decides then.
        if !Self.manifestMediaTypes.contains(mediaType) {
            struct Probe: Decodable { let mediaType: String? }
            mediaType = (try? JSONDecoder().decode(Probe.self, from: response.body))?.mediaType ?? mediaType
        }
        return FetchedManifest(data: response.body, mediaType: mediaType, digest: digest)
    }

    /// Streams the blob `digest` of `size` bytes into `sink`, resuming with a Range request
    /// where the connection dropped. The sink must check the digest: the store's blob
    /// writer does when it commits.
    ///
    /// - Parameter progress: called with the byte count received so far.
    public func fetchBlob(
        repository: String, digest: Digest, size: Int64, into sink: any ByteSink,
        progress: ((Int64) -> Void)? = nil
    ) throws {
        let transfer = HTTPSession()
        defer { transfer.invalidate() }
        var received: Int64 = 0
        var attempt = 1

        while true {
            var request = Request(
                "GET", "v2/\(repository)/blobs/\(digest)", scopes: [Self.pullScope(repository)],
                operation: "pull blob", object: "\(digest) from \(registry)/\(repository)")
            if received > 0 { request.headers["Range"] = "bytes=\(received)-" }

            // A server that ignores Range sends the whole blob again; the bytes already
            // written are skipped rather than written twice.
            var skip: Int64 = 0
            var checkedStart = false
            let alreadyReceived = received
            do {
                let response = try perform(request, on: transfer) { response, data in
                    if !checkedStart {
                        checkedStart = true
                        if response.statusCode == 200 { skip = alreadyReceived }
                    }
                    var chunk = data[...]
                    if skip > 0 {
                        let dropped = min(Int64(chunk.count), skip)
                        chunk = chunk.dropFirst(Int(dropped))
                        skip -= dropped
                    }
                    guard !chunk.isEmpty else { return }
                    guard received + Int64(chunk.count) <= size else {
                        throw OCIError.sizeMismatch(
                            object: "blob \(digest)", expected: size, actual: received + Int64(chunk.count))
                    }
                    try chunk.withUnsafeBytes { try sink.write($0) }
                    received += Int64(chunk.count)
                    progress?(received)
                }
                guard response.isSuccess else {
                    throw OCIError.registryFailure(
                        operation: request.operation, object: request.object, status: response.status,
                        detail: OCIError.registryDetail(response.body))
                }
                guard received == size else {
                    throw OCIError.sizeMismatch(object: "blob \(digest)", expected: size, actual: received)
                }
                return
            } catch let error as OCIError {
                // A connection that dropped mid-body ends up here as connectionFailed.
                guard case .connectionFailed = error, attempt < configuration.maxAttempts else { throw error }
                log.log(.info, "resuming blob \(digest) at byte \(received) after \(error)")
                Thread.sleep(forTimeInterval: configuration.retryDelay * pow(2, Double(attempt - 1)))
                attempt += 1
            }
        }
    }

    // MARK: - Push

    /// Whether the repository already has the blob (HEAD).
    public func blobExists(repository: String, digest: Digest) throws -> Bool {
        let request = Request(
            "HEAD", "v2/\(repository)/blobs/\(digest)", scopes: [Self.pushScope(repository)],
            operation: "check blob", object: "\(digest) in \(registry)/\(repository)")
        let response = try perform(request)
        switch response.status {
        case 200: return true
        case 404: return false
        default:
            throw OCIError.registryFailure(
                operation: request.operation, object: request.object, status: response.status, detail: "")
        }
    }

    /// Asks the registry to link the blob from `source`, another repository on the same
    /// registry, instead of uploading it. Returns nil when it did, or the upload location the
    /// registry opened instead.
    public func mountBlob(repository: String, digest: Digest, from source: String) throws -> URL? {
        var request = Request(
            "POST", "v2/\(repository)/blobs/uploads/",
            scopes: [Self.pushScope(repository), Self.pullScope(source)],
            operation: "mount blob", object: "\(digest) from \(source) into \(registry)/\(repository)")
        request.query = [
            URLQueryItem(name: "mount", value: digest.description), URLQueryItem(name: "from", value: source),
        ]
        request.headers["Content-Length"] = "0"
        let response = try perform(request)
        switch response.status {
        case 201: return nil
        case 202: return try resolveLocation(response.header("Location"), request: request)
        default:
            throw OCIError.registryFailure(
                operation: request.operation, object: request.object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
    }

    /// Opens an upload session and returns its location.
    func startUpload(repository: String, digest: Digest) throws -> URL {
        var request = Request(
            "POST", "v2/\(repository)/blobs/uploads/", scopes: [Self.pushScope(repository)],
            operation: "start upload of blob", object: "\(digest) to \(registry)/\(repository)")
        request.headers["Content-Length"] = "0"
        let response = try perform(request)
        guard response.status == 202 else {
            throw OCIError.registryFailure(
                operation: request.operation, object: request.object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
        return try resolveLocation(response.header("Location"), request: request)
    }

    /// Uploads the file at `path`, whose content is the blob `digest` of `size` bytes: in one
    /// PUT up to `monolithicLimit`, else in PATCH chunks closed by a PUT. A chunk that fails
    /// is resumed from the offset the registry reports it has.
    ///
    /// - Parameter location: an upload session already open, from `mountBlob`.
    public func uploadBlob(
        repository: String, digest: Digest, size: Int64, path: String, location: URL? = nil,
        progress: ((Int64) -> Void)? = nil
    ) throws {
        var location = try location ?? startUpload(repository: repository, digest: digest)
        let object = "\(digest) to \(registry)/\(repository)"

        if size <= configuration.monolithicLimit {
            var request = Request(
                "PUT", "", scopes: [Self.pushScope(repository)], operation: "upload blob", object: object)
            request.absolute = location
            request.query = [URLQueryItem(name: "digest", value: digest.description)]
            request.headers["Content-Type"] = "application/octet-stream"
            request.headers["Content-Length"] = "\(size)"
            // Sent from memory: URLSession's file uploads measured 1.5x slower here than Data.
            request.body = .data(try ChunkReader(path: path).read(at: 0, count: Int(size)))
            let response = try perform(request)
            guard response.status == 201 else {
                throw OCIError.registryFailure(
                    operation: request.operation, object: object, status: response.status,
                    detail: OCIError.registryDetail(response.body))
            }
            progress?(size)
            return
        }

        let file = try ChunkReader(path: path)
        var offset: Int64 = 0
        var failures = 0
        while offset < size {
            let length = min(configuration.chunkSize, size - offset)
            let chunk = try file.read(at: offset, count: Int(length))
            var request = Request(
                "PATCH", "", scopes: [Self.pushScope(repository)], operation: "upload blob", object: object)
            request.absolute = location
            request.headers["Content-Type"] = "application/octet-stream"
            request.headers["Content-Range"] = "\(offset)-\(offset + length - 1)"
            request.headers["Content-Length"] = "\(length)"
            request.body = .data(chunk)
            // Sending the chunk again blindly could append it twice; the status query below
            // tells where to go on instead.
            request.retriesDroppedConnections = false

            let response: HTTPResponse
            do {
                response = try perform(request)
            } catch OCIError.connectionFailed(_, _, let underlying) where failures < 2 {
                // The chunk may have landed in part: ask the registry where the upload stands.
                failures += 1
                log.log(.info, "requesting the upload status of \(digest) from \(registry) after \(underlying)")
                do {
                    let status = try uploadStatus(location: location, repository: repository, object: object)
                    offset = status.offset
                    location = status.location ?? location
                } catch OCIError.registryFailure(_, _, let status, let detail) {
                    // docker-registry rejects a status query whose state token lags behind the
                    // upload (BLOB_UPLOAD_INVALID), so the upload starts over in a new session.
                    log.log(.info, "starting the upload of \(digest) again after HTTP \(status) \(detail)")
                    location = try startUpload(repository: repository, digest: digest)
                    offset = 0
                }
                continue
            }
            guard response.status == 202 else {
                throw OCIError.registryFailure(
                    operation: request.operation, object: object, status: response.status,
                    detail: OCIError.registryDetail(response.body))
            }
            location = try resolveLocation(response.header("Location"), request: request)
            offset += length
            progress?(offset)
        }

        var close = Request(
            "PUT", "", scopes: [Self.pushScope(repository)], operation: "finish upload of blob", object: object)
        close.absolute = location
        close.query = [URLQueryItem(name: "digest", value: digest.description)]
        close.headers["Content-Length"] = "0"
        let response = try perform(close)
        guard response.status == 201 else {
            throw OCIError.registryFailure(
                operation: close.operation, object: object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
    }

    /// Asks where an open upload stands: the bytes it has, from the `Range: 0-END` of its
    /// status, and the location to continue at.
    private func uploadStatus(location: URL, repository: String, object: String) throws -> (
        offset: Int64, location: URL?
    ) {
        var request = Request(
            "GET", "", scopes: [Self.pushScope(repository)], operation: "check upload of blob", object: object)
        request.absolute = location
        let response = try perform(request)
        guard response.status == 204 || response.status == 202 else {
            throw OCIError.registryFailure(
                operation: request.operation, object: object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
        let next = response.header("Location").flatMap { try? resolveLocation($0, request: request) }
        guard let range = response.header("Range"), let end = range.split(separator: "-").last.flatMap({ Int64($0) })
        else { return (0, next) }
        return (end + 1, next)
    }

    /// Stores `data` as the manifest `reference` (a tag or its digest) with its media type,
    /// and returns its digest.
    @discardableResult
    public func putManifest(repository: String, reference: String, data: Data, mediaType: String) throws -> Digest {
        var request = Request(
            "PUT", "v2/\(repository)/manifests/\(reference)", scopes: [Self.pushScope(repository)],
            operation: "push manifest", object: "\(registry)/\(repository):\(reference)")
        request.headers["Content-Type"] = mediaType
        request.body = .data(data)
        let response = try perform(request)
        guard response.status == 201 || response.status == 200 else {
            throw OCIError.registryFailure(
                operation: request.operation, object: request.object, status: response.status,
                detail: OCIError.registryDetail(response.body))
        }
        let digest = Digest.sha256(data)
        if let answered = response.header("Docker-Content-Digest").flatMap({ try? Digest(parsing: $0) }),
            answered != digest
        {
            throw OCIError.digestMismatch(
                object: "manifest \(request.object) as stored", expected: digest, actual: answered)
        }
        return digest
    }
}

/// A file read in chunks at given offsets, for chunked uploads.
final class ChunkReader {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = try checkSyscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
    }

    deinit { close(descriptor) }

    /// Reads exactly `count` bytes at `offset`.
    func read(at offset: Int64, count: Int) throws -> Data {
        var data = Data(count: count)
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            guard let start = buffer.baseAddress else { return }
            var done = 0
            while done < count {
                let got = try checkSyscall("read", path: path) {
                    pread(descriptor, start + done, count - done, off_t(offset) + off_t(done))
                }
                guard got > 0 else {
                    throw OCIError.sizeMismatch(
                        object: path, expected: offset + Int64(count), actual: offset + Int64(done))
                }
                done += got
            }
        }
        return data
    }
}
