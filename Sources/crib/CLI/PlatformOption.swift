import OCI

/// The `--platform` option of commands that read an image index.
enum PlatformOption {
    static let spec = OptionSpec.value(
        "platform", "OS/ARCH[/VARIANT]", help: "pick this platform from an index (default linux/amd64)")

    /// Returns the platform given, or linux/amd64 when none was.
    static func parse(_ arguments: ParsedArguments) throws -> Platform {
        try arguments.value("platform").map(Platform.init(parsing:)) ?? ImageCopier.defaultPlatform
    }
}
