import CRunnerShim
import Foundation
import Testing

@testable import Runner

struct SeccompTests {
    func decode(_ json: String) throws -> SeccompProfile {
        try JSONDecoder().decode(SeccompProfile.self, from: Data(json.utf8))
    }

    @Test func dockerFormatDecodes() throws {
        let profile = try decode(
            #"""
            {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
             "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
                         {"name":"personality","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
                         {"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}
            """#)
        #expect(profile.defaultAction == .errno)
        #expect(profile.syscalls.count == 3)
        #expect(profile.syscalls[1].names == ["personality"])
        #expect(profile.syscalls[1].args?.first?.op == .equal)
        #expect(profile.syscalls[2].includes?.caps == ["CAP_SYS_ADMIN"])
    }

    @Test func invalidProfileNamesFileAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "crib-profile-\(UUID().uuidString).json"
        ).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_MAYBE"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try SeccompProfile.load(path: path)
        } throws: { error in
            let message = String(describing: error)
            return message.contains(path) && message.contains("syscalls")
        }
    }

    @Test func capabilityConditionsSelectRules() {
        let mount = SeccompProfile.Rule(["mount"], .allow, includes: .init(caps: ["CAP_SYS_ADMIN"]))
        let clone = SeccompProfile.Rule(["clone"], .allow, excludes: .init(caps: ["CAP_SYS_ADMIN"]))
        let newer = SeccompProfile.Rule(["ptrace"], .allow, includes: .init(minKernel: "99.0"))
        #expect(!SeccompFilter.applies(mount, granted: [], kernelRelease: "6.1.0"))
        #expect(SeccompFilter.applies(mount, granted: ["CAP_SYS_ADMIN"], kernelRelease: "6.1.0"))
        #expect(SeccompFilter.applies(clone, granted: [], kernelRelease: "6.1.0"))
        #expect(!SeccompFilter.applies(clone, granted: ["CAP_SYS_ADMIN"], kernelRelease: "6.1.0"))
        #expect(!SeccompFilter.applies(newer, granted: [], kernelRelease: "6.18.44-fc"))
    }

    @Test(arguments: [
        ("6.18.44-fc-v1272", "4.8", true), ("4.8.0", "4.8", true), ("4.7.10", "4.8", false), ("5.10", "5.10.1", false),
    ])
    func kernelComparison(release: String, minimum: String, expected: Bool) {
        #expect(SeccompFilter.kernel(release, isAtLeast: minimum) == expected)
    }

    @Test func defaultProfileCompiles() throws {
        let filter = try SeccompFilter(profile: .defaultProfile, capabilities: Capability.defaultSet)
        #expect(!filter.program.isEmpty)
        #expect(filter.program.count % 8 == 0)
        // Granting CAP_SYS_ADMIN adds mount, unshare and friends, so the program changes.
        let admin = try SeccompFilter(profile: .defaultProfile, capabilities: Capability.defaultSet.union([.sysAdmin]))
        #expect(admin.program != filter.program)
    }

    @Test(arguments: [
        (UInt64(0x1000 | 0x4000 | 0x1), "MS_RDONLY|MS_BIND|MS_REC"),
        (UInt64(0), "0"),
        (UInt64(0x1_0000_0000), "0x100000000"),
    ])
    func mountFlagsByName(flags: UInt64, expected: String) {
        var buffer = [CChar](repeating: 0, count: 256)
        crib_mount_flag_names(flags, &buffer, buffer.count)
        #expect(String(cString: buffer) == expected)
    }
}
