import Foundation
import OCI

/// The inputs of a build on disk: the context directory, the Dockerfile and the ignore rules.
public struct BuildContext: Sendable {
    public let directory: String
    /// The Dockerfile's path as crib opens it.
    public let dockerfilePath: String
    /// The Dockerfile's name in messages: the `-f` value as typed, or its path under the context.
    public let dockerfileName: String
    public let dockerfile: Dockerfile
    public let ignore: DockerIgnore
    /// The ignore file that was read, if any.
    public let ignorePath: String?

    /// Opens the context at `directory` with the Dockerfile `file` (as `-f` gives it), or with
    /// `Containerfile` or `Dockerfile` in the context when `file` is nil, as podman looks for them.
    public init(directory: String, file: String?) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BuildError.invalidOption("build context \(directory) is not a directory")
        }
        self.directory = directory

        if file == "-" {
            // As `podman build -f -`: the Dockerfile comes from standard input, so only the
            // context's own .dockerignore can apply.
            dockerfilePath = "/dev/stdin"
            dockerfileName = "<stdin>"
        } else if let file {
            dockerfilePath = file
            dockerfileName = file
        } else {
            let prefix = directory == "." ? "" : (directory.hasSuffix("/") ? directory : directory + "/")
            guard let name = ["Containerfile", "Dockerfile"].first(where: { FileManager.default.fileExists(atPath: prefix + $0) })
            else {
                throw BuildError.invalidOption("no Containerfile or Dockerfile in \(directory); name one with -f")
            }
            dockerfilePath = prefix + name
            dockerfileName = prefix + name
        }

        let text: String
        do {
            text = try TextFile.read(dockerfilePath)
        } catch let error as SystemError {
            throw BuildError.io(error)
        }
        dockerfile = try DockerfileParser.parse(text, file: dockerfileName)
        let ignoreAnchor = file == "-" ? directory + "/Dockerfile" : dockerfilePath
        (ignore, ignorePath) = try DockerIgnore.load(contextDirectory: directory, dockerfilePath: ignoreAnchor)
    }
}
