import Foundation

struct VersionCommand: Command {
    static let name = "version"
    static let abstract = "Print crib's version and the kernel release"
    static let usage = "version [--format json]"
    static let options: [OptionSpec] = [
        .value("format", "FORMAT", help: "print as json instead of text")
    ]

    let json: Bool

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        switch arguments.value("format") {
        case nil: json = false
        case "json": json = true
        case let other?: throw UsageError("unsupported format \"\(other)\"; use json", command: Self.name)
        }
    }

    func run() throws -> Int32 {
        var uts = utsname()
        uname(&uts)
        let kernel = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if json {
            print("{\"version\":\"\(Crib.version)\",\"kernel\":\"\(kernel)\"}")
        } else {
            print("crib version \(Crib.version)\nkernel \(kernel)")
        }
        return 0
    }
}
