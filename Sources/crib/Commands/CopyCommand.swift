import Foundation
import OCI

struct CopyCommand: Command {
    static let name = "copy"
    static let abstract =
        "Copy an image between transports: oci:, oci-archive:, docker-archive:, docker:// and the store"
    static let usage = "copy [--platform OS/ARCH] [--tls-verify=false] SOURCE DESTINATION"
    static let options: [OptionSpec] =
        [PlatformOption.spec] + RegistryOptions.specs

    let source: TransportReference
    let destination: TransportReference
    let platform: Platform
    let registry: RegistryOptions
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 2...2)
        source = try TransportReference(parsing: arguments.positionals[0])
        destination = try TransportReference(parsing: arguments.positionals[1])
        platform = try PlatformOption.parse(arguments)
        registry = try RegistryOptions(arguments: arguments, command: Self.name)
        self.global = global
    }

    func run() throws -> Int32 {
        let endpoints = try registry.endpoints(global)
        let opened = try endpoints.source(source)
        var names = [String]()
        if let stored = opened as? StoreImageSource { names = stored.image.names }
        if case .registry(let reference) = source { names = [reference.description] }
        let manifest = try ImageCopier(log: endpoints.log).copy(
            from: opened, to: try endpoints.destination(destination, sourceNames: names), platform: platform)
        print(manifest.digest)
        return 0
    }
}
