import Foundation
import OCI

struct PullCommand: Command {
    static let name = "pull"
    static let abstract = "Pull an image from a registry or another transport into the store"
    static let usage = "pull [--platform OS/ARCH] [--tls-verify=false] REFERENCE"
    static let options: [OptionSpec] =
        [PlatformOption.spec] + RegistryOptions.specs

    let source: TransportReference
    let platform: Platform
    let registry: RegistryOptions
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...1)
        let text = arguments.positionals[0]
        let parsed = try TransportReference(parsing: text)
        // A plain name means a registry here, as `podman pull busybox` does.
        if case .store(let name) = parsed {
            source = .registry(try ImageReference(parsing: name))
        } else {
            source = parsed
        }
        platform = try PlatformOption.parse(arguments)
        registry = try RegistryOptions(arguments: arguments, command: Self.name)
        self.global = global
    }

    func run() throws -> Int32 {
        let endpoints = try registry.endpoints(global)
        let names: [String]
        switch source {
        case .registry(let reference): names = [reference.description]
        case .ociLayout(_, let name), .ociArchive(_, let name), .dockerArchive(_, let name):
            names = name.map { [$0] } ?? []
        case .store: names = []
        }
        let destination = StoreImageDestination(store: endpoints.store, names: names)
        try ImageCopier(log: endpoints.log).copy(
            from: try endpoints.source(source), to: destination, platform: platform)
        if let image = destination.image { print(image.id.encoded) }
        return 0
    }
}
