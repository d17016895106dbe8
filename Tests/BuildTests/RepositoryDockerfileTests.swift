import Foundation
import Testing

@testable import Build

/// Parses and plans every Dockerfile the repository ships under beta-image/ and examples/,
/// so that a change to the parser or to one of those files cannot break the other unseen.
struct RepositoryDockerfileTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Files named Dockerfile*, Containerfile* or *.Dockerfile, without their ignore files.
    static func dockerfiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found = [String]()
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            let isDockerfile = name.hasPrefix("Dockerfile") || name.hasPrefix("Containerfile") || name.hasSuffix(".Dockerfile")
            if isDockerfile && !name.hasSuffix(".dockerignore") { found.append(directory + "/" + relative) }
        }
        return found.sorted()
    }

    @Test(arguments: ["beta-image", "examples"])
    func everyDockerfileParses(directory: String) throws {
        let path = Self.packageRoot + "/" + directory
        guard FileManager.default.fileExists(atPath: path) else { return }

        for file in Self.dockerfiles(under: path) {
            let name = String(file.dropFirst(Self.packageRoot.count + 1))
            do {
                let dockerfile = try DockerfileParser.parse(try TextFile.read(file), file: name)
                let plan = try BuildPlanner(dockerfile: dockerfile) { _, _ in ImageSettings() }.plan()
                #expect(!plan.stages.isEmpty, "\(name) planned no stage")
            } catch {
                Issue.record("\(name) does not parse or plan: \(error)")
            }
        }
    }
}
