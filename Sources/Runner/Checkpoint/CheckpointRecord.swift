import Foundation

/// The checkpoint facts a checkpoint image's manifest annotations record: how it was taken,
/// where the CRIU images are, and what the host that took it had.
public struct CheckpointRecord: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// The image's own scripts ran CRIU and the container exited.
        case selfCheckpoint = "self"
        /// crib ran CRIU in the container's namespaces once a trigger held.
        case trigger
    }

    public static let prefix = "io.crib.checkpoint"
    static let keyMethod = prefix + ".method"
    static let keyPhase = prefix + ".phase"
    static let keyImages = prefix + ".images"
    static let keyCRIUVersion = prefix + ".criu.version"
    static let keyKernel = prefix + ".host.kernel"
    static let keyCPUModel = prefix + ".host.cpu.model"
    static let keyCPUFlags = prefix + ".host.cpu.flags"
    static let keyStdio = prefix + ".stdio"
    static let keyRootPID = prefix + ".root-pid"

    public var method: Method
    /// WLP_CHECKPOINT's value when the checkpoint was asked for with it.
    public var phase: String?
    /// The CRIU image directory, an absolute path in the image's root file system.
    public var imagesDirectory: String
    public var criuVersion: String
    public var host: HostProfile
    /// For a trigger checkpoint: what the dumped tree's stdin, stdout and stderr were
    /// (`pipe:[INODE]`), for `criu restore --inherit-fd`.
    public var stdio: [String] = []
    /// For a trigger checkpoint: the dumped tree's root PID in the container.
    public var rootPID: Int32?

    public init(method: Method, phase: String?, imagesDirectory: String, criuVersion: String, host: HostProfile) {
        self.method = method
        self.phase = phase
        self.imagesDirectory = imagesDirectory
        self.criuVersion = criuVersion
        self.host = host
    }

    public var annotations: [String: String] {
        var result = [
            Self.prefix: "true",
            Self.keyMethod: method.rawValue,
            Self.keyImages: imagesDirectory,
            Self.keyCRIUVersion: criuVersion,
            Self.keyKernel: host.kernelRelease,
            Self.keyCPUModel: host.cpuModel,
            Self.keyCPUFlags: host.cpuFlags.sorted().joined(separator: " "),
        ]
        if let phase { result[Self.keyPhase] = phase }
        if !stdio.isEmpty { result[Self.keyStdio] = stdio.joined(separator: ",") }
        if let rootPID { result[Self.keyRootPID] = String(rootPID) }
        return result
    }

    /// Reads the record from a manifest's annotations; nil when the image is no checkpoint.
    ///
    /// - Throws: `RunnerError.invalidCheckpoint` when the annotations mark a checkpoint but a
    ///   field a restore needs is missing or invalid.
    public init?(annotations: [String: String]?, image: String) throws {
        guard let annotations, annotations[Self.prefix] == "true" else { return nil }
        func require(_ key: String) throws -> String {
            guard let value = annotations[key], !value.isEmpty else {
                throw RunnerError.invalidCheckpoint(image: image, reason: "annotation \(key) is missing")
            }
            return value
        }
        guard let method = Method(rawValue: try require(Self.keyMethod)) else {
            throw RunnerError.invalidCheckpoint(image: image, reason: "annotation \(Self.keyMethod) is neither self nor trigger")
        }
        let images = try require(Self.keyImages)
        guard images.hasPrefix("/") else {
            throw RunnerError.invalidCheckpoint(image: image, reason: "annotation \(Self.keyImages) is not an absolute path")
        }
        let host = HostProfile(
            kernelRelease: try require(Self.keyKernel), cpuModel: annotations[Self.keyCPUModel] ?? "",
            cpuFlags: Set((annotations[Self.keyCPUFlags] ?? "").split(separator: " ").map(String.init)))
        self.init(
            method: method, phase: annotations[Self.keyPhase], imagesDirectory: images,
            criuVersion: annotations[Self.keyCRIUVersion] ?? "", host: host)
        stdio = (annotations[Self.keyStdio] ?? "").split(separator: ",").map(String.init)
        rootPID = annotations[Self.keyRootPID].flatMap { Int32($0) }
        if method == .trigger && stdio.count != 3 {
            throw RunnerError.invalidCheckpoint(image: image, reason: "annotation \(Self.keyStdio) needs three pipes")
        }
    }
}
