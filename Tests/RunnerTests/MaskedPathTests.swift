import Foundation
import Testing

@testable import Runner

/// The /proc and /sys paths Docker hides (kernel memory, keys, timers, firmware) are masked and
/// the ones that reach host kernel settings are read-only, unless the container is privileged.
@Suite(.serialized)
struct MaskedPathTests {
    /// Runs `cat /proc/self/mountinfo`, a separator, then `probe` in a busybox container.
    func run(_ probe: String, privileged: Bool) throws -> (mounts: [String: String], output: String) {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let flags = privileged ? ["--privileged"] : []
        let result = try Shell.crib(
            root: root.path,
            ["run", "--rm"] + flags + ["--rootfs", rootfs.path, "sh", "-c", "cat /proc/self/mountinfo; echo ---; " + probe])
        #expect(result.status == 0, "\(result.error)")
        let parts = result.output.components(separatedBy: "---\n")
        // The last mount on a mount point is the one in effect; its options are field 6.
        var mounts: [String: String] = [:]
        for line in parts[0].split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 5 { mounts[String(fields[4])] = String(fields[5]) }
        }
        return (mounts, parts.count > 1 ? parts[1] : "")
    }

    static let probe = """
        p="$1"
        if [ ! -e "$p" ]; then echo absent
        elif [ -d "$p" ]; then echo "entries $(ls -A "$p" | wc -l)"
        else echo "bytes $(head -c 64 "$p" 2>/dev/null | wc -c)"; fi
        """

    func probe(_ path: String, privileged: Bool) throws -> (mounts: [String: String], output: String) {
        try run("set -- '\(path)'; " + Self.probe, privileged: privileged)
    }

    @Test(arguments: ContainerSpec.maskedPaths)
    func maskedPathIsEmpty(path: String) throws {
        let (mounts, output) = try probe(path, privileged: false)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // Nothing to hide on this kernel; the container's own /proc has no such entry either.
            #expect(output == "absent\n")
            return
        }
        // A directory gets an empty read-only tmpfs, a file /dev/null, as Docker does: reads
        // return nothing and writes go nowhere.
        #expect(mounts[path] != nil, "\(path) is not mounted over")
        if isDirectory.boolValue {
            #expect(mounts[path]?.hasPrefix("ro,") == true, "\(path) is not read-only: \(mounts[path] ?? "none")")
        }
        #expect(output == (isDirectory.boolValue ? "entries 0\n" : "bytes 0\n"))
    }

    @Test(arguments: ContainerSpec.readOnlyPaths)
    func protectedPathIsReadOnly(path: String) throws {
        let (mounts, _) = try probe(path, privileged: false)
        guard FileManager.default.fileExists(atPath: path) else {
            #expect(mounts[path] == nil)
            return
        }
        #expect(mounts[path]?.hasPrefix("ro,") == true, "\(path) is not read-only: \(mounts[path] ?? "none")")
    }

    @Test func sysrqTriggerRejectsWrites() throws {
        // "h" only prints the SysRq help to the kernel log, should the write get through.
        let (_, output) = try run("echo h > /proc/sysrq-trigger && echo written || echo refused", privileged: false)
        #expect(output == "refused\n")
    }

    @Test(arguments: ContainerSpec.maskedPaths + ContainerSpec.readOnlyPaths)
    func privilegedSeesTheRealPath(path: String) throws {
        let (mounts, output) = try probe(path, privileged: true)
        #expect(mounts[path] == nil, "\(path) is mounted over: \(mounts[path] ?? "")")
        if FileManager.default.fileExists(atPath: path) {
            #expect(output != "absent\n")
        }
    }

    @Test func privilegedReadsMaskedContent() throws {
        // /proc/timer_list is never empty and /sys/firmware has entries on any machine with
        // ACPI or a memory map; /proc/kcore, the classic example, is missing on some kernels.
        for path in ["/proc/timer_list", "/sys/firmware"] where !FileManager.default.fileExists(atPath: path) {
            throw FixtureError("missing \(path) on the host, which this test reads in a privileged container")
        }
        let (_, timers) = try probe("/proc/timer_list", privileged: true)
        #expect(timers == "bytes 64\n")
        let (_, firmware) = try probe("/sys/firmware", privileged: true)
        #expect(firmware != "entries 0\n")
        #expect(firmware.hasPrefix("entries "))
    }
}
