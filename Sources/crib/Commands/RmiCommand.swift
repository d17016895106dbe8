import OCI
import Runner

struct RmiCommand: Command {
    static let name = "rmi"
    static let abstract = "Remove images, or names of images"
    static let usage = "rmi IMAGE [IMAGE...]"
    static let options: [OptionSpec] = [
        .flag("force", short: "f", help: "remove an image by id even when several names point at it, and the containers that use it")
    ]

    let global: GlobalOptions
    let names: [String]
    let force: Bool

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 1...Int.max)
        self.global = global
        names = arguments.positionals
        force = arguments.flag("force")
    }

    /// Removes a name as podman does: an image with other names only loses this one; an image
    /// named by id loses all names, which needs `--force` when it has several.
    func run() throws -> Int32 {
        let store = try global.openStore()
        let containers = ContainerStore(root: global.root)
        for name in names {
            let image: StoredImage
            let matchedName: String?
            do {
                (image, matchedName) = try store.resolve(name)
            } catch OCIError.damagedImage(let damaged, let underlying) {
                // A damaged image must still be removable, or it would block every listing.
                global.log.log(.warning, "removing image \(damaged), which cannot be read: \(underlying)")
                for untagged in try store.removeUnreadableImage(named: name) {
                    print("Untagged: \(untagged)")
                }
                try StoreCollector.collect(store, global: global, removeDangling: false, wait: false)
                continue
            }
            if let matchedName, image.names.count > 1 {
                try store.untag(matchedName)
                print("Untagged: \(matchedName)")
                continue
            }
            if matchedName == nil && image.names.count > 1 && !force {
                throw UsageError(
                    "image \(name) has \(image.names.count) names (\(image.names.joined(separator: ", "))); use --force to remove them all",
                    command: Self.name)
            }
            // Containers run on the image's layers, so the image goes only with them, as in podman.
            let users = try containers.containers(using: image.digest)
            if !users.isEmpty && !force {
                throw RunnerError.imageInUse(image: name, containers: users.map { String($0.id.prefix(12)) })
            }
            for user in users {
                try containers.remove(user, force: true)
            }
            // The image goes with its layers and blobs, unless a build or pull is running. Then
            // only the image goes, and `crib prune` collects the rest.
            // NOTE: until that prune, crib check reports the image's unpacked layers as unused.
            if try StoreCollector.collect(store, global: global, removing: [image], removeDangling: false, wait: false) == nil {
                try store.removeImage(image)
            }
            for untagged in image.names {
                print("Untagged: \(untagged)")
            }
            print("Deleted: \(image.id.encoded)")
        }
        return 0
    }
}
