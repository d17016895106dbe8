import Build
import Layering
import OCI

struct CheckCommand: Command {
    static let name = "check"
    static let abstract = "Verify every blob, image reference and unpacked layer in the store"
    static let usage = "check [--repair] [--format json]"
    static let options: [OptionSpec] = [
        .flag("repair", help: "remove corrupt blobs, the images that need them, stray files and unused layers"),
        OutputFormat.spec,
    ]

    let global: GlobalOptions
    let repair: Bool
    let format: OutputFormat

    init(arguments: ParsedArguments, global: GlobalOptions) throws {
        try Self.expectPositionals(arguments, 0...0)
        self.global = global
        repair = arguments.flag("repair")
        format = try OutputFormat(arguments, command: Self.name)
    }

    /// The report as `--format json` prints it.
    struct Output: Encodable {
        let sound: Bool
        let checkedBlobs: Int
        let checkedBytes: Int64
        let checkedImages: Int
        let problems: [StoreCheckReport.Problem]
    }

    /// Exits 1 when anything was wrong, also when `--repair` removed all of it, so that a
    /// script learns that the store had been damaged.
    func run() throws -> Int32 {
        let store = try global.openStore()
        // Held so that a prune cannot remove images and blobs between the reads of the check,
        // which would read as damage.
        try store.holdForWriting()
        var report = try store.check(repair: repair)
        if report.indexIsReadable {
            let layers = LayerCache(root: global.root)
            let used = report.referencedDiffIDs.union(BuildCache(root: global.root).liveDiffIDs(in: store))
            report.problems += try layers.check(referencedDiffIDs: used, store: store, repair: repair)
        }
        switch format {
        case .json:
            try Formatting.printJSON(
                Output(
                    sound: report.isSound, checkedBlobs: report.checkedBlobs, checkedBytes: report.checkedBytes,
                    checkedImages: report.checkedImages, problems: report.problems))
        case .table:
            for problem in report.problems { print(problem) }
            let removed = report.problems.filter(\.removed).count
            let count = report.problems.count
            let outcome = report.isSound ? "no problems" : "\(count) \(count == 1 ? "problem" : "problems")" + (repair ? ", \(removed) removed" : "")
            let images = report.checkedImages == 1 ? "image" : "images"
            print("checked \(report.checkedBlobs) blobs (\(Formatting.size(report.checkedBytes))) and \(report.checkedImages) \(images): \(outcome)")
            if !report.isSound && !repair {
                print("run crib check --repair to remove what cannot be trusted; unused layers and blobs also go with crib prune")
            }
        }
        return report.isSound ? 0 : 1
    }
}
