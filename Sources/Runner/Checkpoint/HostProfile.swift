import Foundation
import OCI

/// The parts of a host that decide whether a CRIU dump taken on it restores on another: the
/// kernel release and the CPU's model and feature flags.
public struct HostProfile: Sendable, Equatable {
    public var kernelRelease: String
    public var cpuModel: String
    public var cpuFlags: Set<String>

    public init(kernelRelease: String, cpuModel: String, cpuFlags: Set<String>) {
        self.kernelRelease = kernelRelease
        self.cpuModel = cpuModel
        self.cpuFlags = cpuFlags
    }

    /// This host, from uname(2) and /proc/cpuinfo (the first processor's entry).
    public static func current() throws -> HostProfile {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            throw RunnerError.io(SystemError("read", path: "/proc/cpuinfo"))
        }
        var model = ""
        var flags: Set<String> = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name" && model.isEmpty { model = parts[1] }
            if parts[0] == "flags" && flags.isEmpty { flags = Set(parts[1].split(separator: " ").map(String.init)) }
        }
        return HostProfile(kernelRelease: release, cpuModel: model, cpuFlags: flags)
    }

    /// Why this host cannot restore a dump taken on `recorded`, or nil when it can: a CPU flag
    /// it lacks (restored code may use any instruction the dumping CPU had), or an older kernel.
    public func refusal(toRestore recorded: HostProfile) -> String? {
        let missing = recorded.cpuFlags.subtracting(cpuFlags).sorted()
        if !missing.isEmpty {
            return "this host's CPU lacks the flag\(missing.count == 1 ? "" : "s") \(missing.joined(separator: " ")) that the checkpointing host (\(recorded.cpuModel)) had"
        }
        if Self.compare(kernelRelease, recorded.kernelRelease) < 0 {
            return "this host's kernel \(kernelRelease) is older than \(recorded.kernelRelease), which took the checkpoint"
        }
        return nil
    }

    /// Compares the leading numbers of two kernel releases ("6.18.1-amd64" as 6, 18, 1).
    static func compare(_ a: String, _ b: String) -> Int {
        func numbers(_ release: String) -> [Int] {
            let head = release.prefix { $0.isNumber || $0 == "." }
            return head.split(separator: ".").compactMap { Int($0) }
        }
        let left = numbers(a)
        let right = numbers(b)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }
}
