import Foundation
import OCI

struct PushCommand: Command {
    static let name = "push"
    static let abstract = "Push an image from the store to a registry or another transport"
    static let usage = "push [--tls-verify=false] [--digestfile FILE] IMAGE [DESTINATION]"
    static let options: [OptionSpec] =
        [.value("digestfile", "FILE", help: "write the pushed manifest's digest to FILE")] + RegistryOptions.specs

    let image: String
    let destination: TransportReference?
    let digestFile: String?
    let registry: RegistryOptions
    let global: GlobalOptions

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...2)
        image = arguments.positionals[0]
        if arguments.positionals.count == 2 {
            let text = arguments.positionals[1]
            let parsed = try TransportReference(parsing: text)
            // Without a transport the destination is a registry, as podman reads it.
            if case .store(let name) = parsed {
                destination = .registry(try ImageReference(parsing: name))
            } else {
                destination = parsed
            }
        } else {
            destination = nil
        }
        digestFile = arguments.value("digestfile")
        registry = try RegistryOptions(arguments: arguments, command: Self.name)
        self.global = global
    }

    func run() throws -> Int32 {
        let endpoints = try registry.endpoints(global)
        let source = StoreImageSource(store: endpoints.store, image: try endpoints.store.image(image))
        let target: TransportReference
        if let destination {
            target = destination
        } else {
            // The image's own name says where it goes: `crib push 127.0.0.1:5000/app:1`. The
            // stored name that the lookup matched decides, so `app:1` means `localhost/app:1`.
            guard let stored = source.image.names.first(where: { Self.matches($0, image) }) ?? source.image.names.first
            else {
                throw UsageError(
                    "\(image) has no name; give a destination such as docker://HOST/REPOSITORY:TAG", command: Self.name)
            }
            let reference = try ImageReference(parsing: stored)
            guard reference.domain != ImageReference.localDomain else {
                throw UsageError(
                    "\(image) has no registry in its name; give a destination such as docker://HOST/\(reference.path)",
                    command: Self.name)
            }
            target = .registry(reference)
        }
        let manifest = try ImageCopier(log: endpoints.log).copy(
            from: source, to: try endpoints.destination(target, sourceNames: source.image.names))
        if let digestFile {
            try Data(manifest.digest.description.utf8).write(to: URL(fileURLWithPath: digestFile))
        }
        return 0
    }

    private static func matches(_ name: String, _ text: String) -> Bool {
        [try? ImageReference(local: text), try? ImageReference(parsing: text)].contains { $0?.description == name }
    }
}
