import CSeccomp
import Foundation
import OCI

/// A seccomp profile compiled to classic BPF for the capabilities a container holds.
///
/// The only file that handles libseccomp's pointers. The parent compiles; the container's
/// process only hands the program to the kernel, so no library runs between fork and exec.
public struct SeccompFilter: Sendable {
    /// `struct sock_filter` entries, 8 bytes each, as the kernel takes them.
    public let program: [UInt8]

    public init(
        profile: SeccompProfile, capabilities: Set<Capability>, kernelRelease: String = SeccompFilter.kernelRelease()
    ) throws {
        let defaultAction = Self.action(profile.defaultAction, errno: profile.defaultErrnoRet)
        guard let context = seccomp_init(defaultAction) else {
            throw RunnerError.seccompFailed(operation: "initialise the seccomp filter", syscall: nil, errno: ENOMEM)
        }
        defer { seccomp_release(context) }

        let granted = Set(capabilities.map { $0.description })
        for rule in profile.syscalls where Self.applies(rule, granted: granted, kernelRelease: kernelRelease) {
            let action = Self.action(rule.action, errno: rule.errnoRet ?? profile.defaultErrnoRet)
            if action == defaultAction { continue }
            let comparisons = (rule.args ?? []).map { argument in
                scmp_arg_cmp(
                    arg: argument.index, op: Self.compare(argument.op), datum_a: argument.value,
                    datum_b: argument.valueTwo ?? 0)
            }
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                // Names this libseccomp does not know are syscalls this architecture lacks.
                if number == __NR_SCMP_ERROR { continue }
                let result = comparisons.withUnsafeBufferPointer { buffer in
                    seccomp_rule_add_array(context, action, number, UInt32(buffer.count), buffer.baseAddress)
                }
                if result < 0 {
                    throw RunnerError.seccompFailed(operation: "add a seccomp rule", syscall: name, errno: -result)
                }
            }
        }

        program = try Self.export(context)
    }

    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        guard let file = tmpfile() else { throw RunnerError.io(SystemError("create a file for the seccomp program")) }
        defer { fclose(file) }
        let fd = fileno(file)
        let result = seccomp_export_bpf(context, fd)
        if result < 0 {
            throw RunnerError.seccompFailed(operation: "export the seccomp program", syscall: nil, errno: -result)
        }
        let size = lseek(fd, 0, SEEK_END)
        lseek(fd, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, Int(size)) }
        guard count == size else { throw RunnerError.io(SystemError("read the seccomp program")) }
        return bytes
    }

    static func applies(_ rule: SeccompProfile.Rule, granted: Set<String>, kernelRelease: String) -> Bool {
        if let includes = rule.includes {
            if let caps = includes.caps, !caps.allSatisfy({ granted.contains($0) }) { return false }
            if let arches = includes.arches, !arches.contains(where: nativeArchitectures.contains) { return false }
            if let minimum = includes.minKernel, !kernel(kernelRelease, isAtLeast: minimum) { return false }
        }
        if let excludes = rule.excludes {
            if let caps = excludes.caps, caps.contains(where: granted.contains) { return false }
            if let arches = excludes.arches, arches.contains(where: nativeArchitectures.contains) { return false }
        }
        return true
    }

    /// Docker's architecture names for this build.
    static var nativeArchitectures: Set<String> {
        #if arch(x86_64)
            return ["amd64", "x86_64", "SCMP_ARCH_X86_64"]
        #elseif arch(arm64)
            return ["arm64", "aarch64", "SCMP_ARCH_AARCH64"]
        #else
            return []
        #endif
    }

    /// Compares "6.18.44-fc" with "4.8" by their numeric parts.
    static func kernel(_ release: String, isAtLeast minimum: String) -> Bool {
        func parts(_ text: String) -> [Int] {
            text.split(whereSeparator: { !$0.isNumber }).prefix(3).map { Int($0) ?? 0 }
        }
        let have = parts(release)
        let need = parts(minimum)
        for index in 0..<max(have.count, need.count) {
            let a = index < have.count ? have[index] : 0
            let b = index < need.count ? need[index] : 0
            if a != b { return a > b }
        }
        return true
    }

    public static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    // The SCMP_ACT_* values are function-like macros that Swift cannot import.
    private static func action(_ action: SeccompProfile.Action, errno: UInt32?) -> UInt32 {
        switch action {
        case .allow: return 0x7fff_0000
        case .errno: return 0x0005_0000 | ((errno ?? 1) & 0xffff)
        case .kill, .killThread: return 0x0000_0000
        case .killProcess: return 0x8000_0000
        case .trap: return 0x0003_0000
        case .trace: return 0x7ff0_0000 | ((errno ?? 0) & 0xffff)
        case .log: return 0x7ffc_0000
        }
    }

    private static func compare(_ op: SeccompProfile.Operator) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equal: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }
}
