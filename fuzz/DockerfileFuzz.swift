import Build
import Foundation

/// Parses the input as a Dockerfile and, when it parses, plans the build, which expands every
/// variable reference. A thrown error is correct for hostile input, so only a crash, a
/// sanitizer report or a hang counts as a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDockerfile(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    guard let dockerfile = try? DockerfileParser.parse(text, file: "fuzz/Dockerfile") else { return 0 }

    let base = ImageSettings(environment: ["PATH=/usr/bin:/bin", "HOME=/root"], workingDirectory: "/srv")
    let planner = BuildPlanner(dockerfile: dockerfile, options: BuildOptions(buildArgs: ["VERSION": "1.0"])) { _, _ in
        base
    }
    _ = try? planner.plan()

    // The expander on its own, with the whole input as one word list and as a heredoc body.
    let expander = VariableExpander(escape: dockerfile.escape)
    let variables = ["A": "a b", "EMPTY": "", "PATH": "/bin"]
    _ = try? expander.expand(text, variables)
    _ = try? expander.expandWords(text, variables)
    _ = try? expander.expandHeredoc(text, variables)
    return 0
}
