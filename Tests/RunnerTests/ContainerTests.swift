import Foundation
import Testing

/// Runs real containers through the built crib binary on a busybox root file system. Needs
/// root; the suite is serialized because the port and user tests share host state.
@Suite(.serialized)
struct ContainerTests {
    /// Runs `crib run --rm --rootfs BUSYBOX EXTRA… -- sh -c SCRIPT` and returns its result.
    func run(_ script: String, flags: [String] = []) throws -> Shell.Result {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        return try Shell.crib(
            root: root.path, ["run", "--rm"] + flags + ["--rootfs", rootfs.path, "sh", "-c", script])
    }

    func statusField(_ name: String, in output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    @Test func defaultUserAndHostname() throws {
        let result = try run("id; hostname", flags: ["--hostname", "box"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "uid=0(root) gid=0(root)\nbox\n")
    }

    @Test func userFromPasswdWithGroups() throws {
        let result = try run("id; pwd", flags: ["-u", "app", "-w", "/home/app"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "uid=1000(app) gid=1000(app) groups=2000(extra)\n/home/app\n")
    }

    @Test func numericUserAndGroup() throws {
        let result = try run("id -u; id -g", flags: ["-u", "4321:2000"])
        #expect(result.output == "4321\n2000\n", "\(result.error)")
    }

    @Test func unknownUserFails() throws {
        let result = try run("true", flags: ["-u", "ghost"])
        #expect(result.status == 125)
        #expect(result.error.contains("\"ghost\""))
    }

    @Test func defaultCapabilitiesAndSeccomp() throws {
        let result = try run("cat /proc/self/status")
        #expect(result.status == 0, "\(result.error)")
        // Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
        // NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
        #expect(statusField("CapEff", in: result.output) == "00000000a80425fb")
        #expect(statusField("CapPrm", in: result.output) == "00000000a80425fb")
        #expect(statusField("CapBnd", in: result.output) == "00000000a80425fb")
        #expect(statusField("CapInh", in: result.output) == "0000000000000000")
        #expect(statusField("CapAmb", in: result.output) == "0000000000000000")
        #expect(statusField("Seccomp", in: result.output) == "2")
        #expect(statusField("NoNewPrivs", in: result.output) == "1")
    }

    @Test func capAddAndDrop() throws {
        let result = try run("cat /proc/self/status", flags: ["--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN,MKNOD"])
        // Default 0xa80425fb + NET_ADMIN (bit 12) - CHOWN (bit 0) - MKNOD (bit 27).
        #expect(statusField("CapEff", in: result.output) == "00000000a00435fa", "\(result.error)")
        #expect(statusField("CapBnd", in: result.output) == "00000000a00435fa")
    }

    @Test func addedCapabilityIsAmbientForNonRoot() throws {
        let result = try run("cat /proc/self/status", flags: ["-u", "app", "--cap-add", "NET_BIND_SERVICE"])
        #expect(statusField("CapEff", in: result.output) == "0000000000000400", "\(result.error)")
        #expect(statusField("CapAmb", in: result.output) == "0000000000000400")
        #expect(statusField("CapBnd", in: result.output) == "00000000a80425fb")
    }

    @Test func privilegedHasEverything() throws {
        let result = try run(
            "cat /proc/self/status; grep ' /sys ' /proc/mounts; grep ' /proc/sys ' /proc/mounts || echo no-proc-sys-mount",
            flags: ["--privileged"])
        // Privileged means everything crib itself holds.
        let own = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        #expect(statusField("CapEff", in: result.output) == statusField("CapBnd", in: own), "\(result.error)")
        #expect(statusField("Seccomp", in: result.output) == "0")
        #expect(statusField("NoNewPrivs", in: result.output) == "0")
        #expect(result.output.contains("sysfs /sys sysfs rw,"))
        #expect(result.output.contains("no-proc-sys-mount"))
    }

    @Test func mountsAreProtected() throws {
        let result = try run("cat /proc/mounts")
        let mounts = result.output
        #expect(result.status == 0, "\(result.error)")
        #expect(mounts.contains("proc /proc proc rw,nosuid,nodev,noexec"))
        #expect(mounts.contains("sysfs /sys sysfs ro,nosuid,nodev,noexec"))
        #expect(mounts.contains("tmpfs /dev tmpfs rw,nosuid"))
        #expect(mounts.contains("devpts /dev/pts devpts rw,nosuid,noexec"))
        #expect(mounts.contains("shm /dev/shm tmpfs rw,nosuid,nodev,noexec"))
        #expect(mounts.contains("proc /proc/sys proc ro,nosuid,nodev,noexec"))
        #expect(mounts.contains(" /proc/keys "))
        #expect(mounts.contains("tmpfs /sys/firmware tmpfs ro"))
        #expect(!mounts.contains("ns_last_pid"))
    }

    @Test func lastPidReadOnlyByDefault() throws {
        let result = try run("echo 5000 > /proc/sys/kernel/ns_last_pid && echo written || echo refused")
        #expect(result.output == "refused\n")
    }

    @Test func lastPidWritableWithVolume() throws {
        let script =
            "echo 5000 > /proc/sys/kernel/ns_last_pid && sh -c 'echo $$'; echo foo > /proc/sys/kernel/hostname 2>/dev/null || echo sys-ro"
        let result = try run(
            script,
            flags: ["-v", "/proc/sys/kernel/ns_last_pid:/proc/sys/kernel/ns_last_pid", "--cap-add", "SYS_ADMIN"])
        #expect(result.output == "5001\nsys-ro\n", "\(result.error)")
    }

    @Test func commandStartsAbovePidOffset() throws {
        let result = try run("echo $$")
        #expect(result.output == "1001\n", "\(result.error)")
    }

    @Test func devicesAndLinks() throws {
        let result = try run("ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx /dev/fd")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("crw-rw-rw-    1 root     root        1,   3"))
        #expect(result.output.contains("/dev/ptmx -> pts/ptmx"))
        #expect(result.output.contains("/dev/fd -> /proc/self/fd"))
    }

    @Test func onlyStdioReachesTheContainer() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        // The shell opens descriptors 7 and 9 before starting crib, and neither may show up inside.
        // ls lists the container shell's descriptors, because its own open directory would show
        // up as 3 in /proc/self/fd. "; true" keeps sh from exec'ing ls in its place.
        let command =
            "exec 7</etc/passwd 9>/dev/null; exec '\(Shell.crib)' --root '\(root.path)' run --rm --rootfs '\(rootfs.path)' sh -c 'ls /proc/$$/fd; true'"
        let result = try Shell.run("/bin/sh", ["-c", command])
        #expect(result.output == "0\n1\n2\n", "\(result.error)")
    }

    @Test func defaultSeccompRefusesUnshare() throws {
        let result = try run("unshare -U true && echo allowed || echo refused")
        #expect(result.output == "refused\n")
        #expect(result.error.contains("Operation not permitted"))
    }

    @Test func unconfinedSeccompAllowsUnshare() throws {
        let result = try run(
            "unshare -U true && echo allowed || echo refused", flags: ["--security-opt", "seccomp=unconfined"])
        #expect(result.output == "allowed\n", "\(result.error)")
    }

    @Test func seccompProfileFromFile() throws {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "crib-seccomp-\(UUID().uuidString).json"
        ).path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        // Everything allowed except mkdir/mkdirat, which fail with EACCES (13).
        try
            #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#
            .write(toFile: profile, atomically: true, encoding: .utf8)
        let result = try run(
            "mkdir /tmp/x && echo made || echo refused", flags: ["--security-opt", "seccomp=\(profile)"])
        #expect(result.output == "refused\n")
        #expect(result.error.contains("Permission denied"))
    }

    @Test func exitStatusPropagates() throws {
        let result = try run("exit 3")
        #expect(result.status == 3)
    }

    @Test func missingCommandIs127() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let missing = try Shell.crib(root: root.path, ["run", "--rm", "--rootfs", rootfs.path, "no-such-command"])
        #expect(missing.status == 127)
        #expect(missing.error.contains("no-such-command"))
        let notExecutable = try Shell.crib(root: root.path, ["run", "--rm", "--rootfs", rootfs.path, "/etc/passwd"])
        #expect(notExecutable.status == 126)
    }

    @Test func environmentMerges() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("crib-env-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "# comment\nFROM_FILE=one\nBOTH=file\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run(
            "echo $FROM_FILE $BOTH $HOME $PATH", flags: ["--env-file", file, "-e", "BOTH=flag"])
        #expect(
            result.output == "one flag /root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
            "\(result.error)")
    }

    @Test func networkNoneHasOnlyLoopback() throws {
        let result = try run("ls /sys/class/net", flags: ["--network", "none"])
        #expect(result.output == "lo\n", "\(result.error)")
    }

    @Test(arguments: [(SIGINT, "INT"), (SIGHUP, "HUP"), (SIGQUIT, "QUIT"), (SIGUSR1, "USR1"), (SIGUSR2, "USR2")])
    func signalReachesTheContainer(signal: Int32, name: String) throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.crib)
        process.arguments = [
            "--root", root.path, "run", "--rm", "--rootfs", rootfs.path, "sh", "-c",
            "trap 'echo got-\(name); exit 5' \(name); echo ready; while true; do sleep 0.1; done",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) == "ready\n")
        kill(process.processIdentifier, signal)
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: rest, as: UTF8.self) == "got-\(name)\n")
        #expect(process.terminationStatus == 5)
    }

    @Test func sigtermReachesTheContainer() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.crib)
        process.arguments = [
            "--root", root.path, "run", "--rm", "--rootfs", rootfs.path, "sh", "-c",
            "trap 'echo terminated; exit 7' TERM; echo ready; while true; do sleep 0.1; done",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let ready = output.fileHandleForReading.availableData
        #expect(String(decoding: ready, as: UTF8.self) == "ready\n")
        kill(process.processIdentifier, SIGTERM)
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: rest, as: UTF8.self) == "terminated\n")
        #expect(process.terminationStatus == 7)
    }

    @Test func publishedPortReachesHttpd() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.crib)
        process.arguments = [
            "--root", root.path, "run", "--rm", "-p", "18080:80", "--rootfs", rootfs.path, "httpd", "-f", "-p", "80",
            "-h", "/www",
        ]
        try process.run()
        defer {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        var body = ""
        for _ in 0..<50 {
            let result = try Shell.run("/usr/bin/curl", ["-s", "--max-time", "2", "http://127.0.0.1:18080/index.html"])
            if result.status == 0 && !result.output.isEmpty {
                body = result.output
                break
            }
            usleep(100_000)
        }
        #expect(body == "hello from the container\n")
    }

    @Test func portInUseFailsBeforeStart() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(18090).bigEndian
        address.sin_addr.s_addr = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(bound == 0)
        #expect(listen(fd, 1) == 0)

        let result = try run("echo started", flags: ["-p", "18090:80"])
        #expect(result.status == 125)
        #expect(result.error.contains("0.0.0.0:18090"))
        #expect(result.output.isEmpty)
    }

    @Test func volumeSymlinkOutOfRootfsStaysInside() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let manager = FileManager.default
        let hostTarget = manager.temporaryDirectory.appendingPathComponent("crib-host-target-\(UUID().uuidString)").path
        let source = manager.temporaryDirectory.appendingPathComponent("crib-volume-\(UUID().uuidString)").path
        try manager.createDirectory(atPath: hostTarget, withIntermediateDirectories: true)
        try manager.createDirectory(atPath: source, withIntermediateDirectories: true)
        defer {
            try? manager.removeItem(atPath: hostTarget)
            try? manager.removeItem(atPath: source)
        }
        try "from the volume\n".write(toFile: source + "/file", atomically: true, encoding: .utf8)
        try manager.createSymbolicLink(atPath: rootfs.path + "/escape", withDestinationPath: hostTarget)

        // The absolute link resolves inside the rootfs, where its destination is created.
        let result = try Shell.crib(
            root: root.path,
            ["run", "--rm", "-v", "\(source):/escape", "--rootfs", rootfs.path, "sh", "-c", "cat /escape/file; touch /escape/new"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "from the volume\n")
        #expect(try manager.contentsOfDirectory(atPath: hostTarget).isEmpty)
        #expect(manager.fileExists(atPath: rootfs.path + hostTarget))
        #expect(manager.fileExists(atPath: source + "/new"))
        let hostMounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!hostMounts.contains(hostTarget))
    }

    @Test func volumeSymlinkLoopIsRejected() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        try FileManager.default.createSymbolicLink(atPath: rootfs.path + "/loop", withDestinationPath: "/loop")
        let result = try Shell.crib(root: root.path, ["run", "--rm", "-v", "/tmp:/loop", "--rootfs", rootfs.path, "true"])
        #expect(result.status == 125)
        #expect(result.error.contains("/loop"))
    }

    @Test func procSymlinkInImageIsRejected() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        try FileManager.default.createSymbolicLink(atPath: rootfs.path + "/proc", withDestinationPath: "/etc")
        let result = try Shell.crib(root: root.path, ["run", "--rm", "--rootfs", rootfs.path, "true"])
        #expect(result.status == 125)
        #expect(result.error.contains("/proc"))
        #expect(result.error.contains("errno 40"))
    }

    @Test func readOnlyVolume() throws {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("crib-volume-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        let result = try run("touch /data/x && echo wrote || echo read-only", flags: ["-v", "\(source):/data:ro"])
        #expect(result.output == "read-only\n", "\(result.error)")
    }

    @Test func keptContainerIsListedAndRemoved() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let run = try Shell.crib(
            root: root.path, ["run", "--name", "kept", "--rootfs", rootfs.path, "sh", "-c", "exit 4"])
        #expect(run.status == 4)
        let listed = try Shell.crib(root: root.path, ["ps", "--all"])
        #expect(listed.output.contains("kept"), "\(listed.error)")
        #expect(listed.output.contains("Exited (4)"))
        let removed = try Shell.crib(root: root.path, ["rm", "kept"])
        #expect(removed.status == 0, "\(removed.error)")
        let after = try Shell.crib(root: root.path, ["ps", "--all"])
        #expect(!after.output.contains("kept"))
        let again = try Shell.crib(root: root.path, ["rm", "kept"])
        #expect(again.status == 125)
        #expect(again.error.contains("kept"))
    }

    @Test func runningContainerIsForceRemoved() throws {
        try requireRoot()
        let rootfs = try BusyboxRootfs()
        defer { rootfs.remove() }
        let root = TemporaryRoot()
        defer { root.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.crib)
        process.arguments = ["--root", root.path, "run", "--name", "busy", "--rootfs", rootfs.path, "sh", "-c", "echo ready; sleep 30"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) == "ready\n")

        let listed = try Shell.crib(root: root.path, ["ps"])
        #expect(listed.output.contains("busy"), "\(listed.error)")
        #expect(listed.output.contains(" Up "))
        let refused = try Shell.crib(root: root.path, ["rm", "busy"])
        #expect(refused.status == 125)
        #expect(refused.error.contains("--force"))

        let removed = try Shell.crib(root: root.path, ["rm", "--force", "busy"])
        #expect(removed.status == 0, "\(removed.error)")
        process.waitUntilExit()
        #expect(process.terminationStatus == 137)
        let after = try Shell.crib(root: root.path, ["ps", "--all"])
        #expect(!after.output.contains("busy"))
    }

    @Test func unprivilegedUserWithoutSubordinateIDs() throws {
        try requireRoot()
        let user = "cribsolo"
        if (try Shell.run("/usr/bin/id", [user])).status != 0 {
            // SUB_UID_COUNT=0 keeps useradd from giving the user a range in /etc/subuid.
            let created = try Shell.run(
                "/usr/sbin/useradd", ["-m", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", user])
            #expect(created.status == 0, "useradd \(user): \(created.error)")
        }
        let subuid = try String(contentsOfFile: "/etc/subuid", encoding: .utf8)
        #expect(!subuid.contains("\(user):"), "\(user) must have no subordinate ids for this test")
        let rootfs = try BusyboxRootfs(owner: user)
        defer { rootfs.remove() }
        let base = [
            "-u", user, "--", "env", "HOME=/home/\(user)", Shell.crib, "--root", "/home/\(user)/crib-test-root", "run",
            "--rm",
        ]

        let result = try Shell.run(
            "/usr/sbin/runuser",
            base + ["--rootfs", rootfs.path, "sh", "-c", "id -u; cat /proc/self/setgroups; wc -l < /proc/self/uid_map"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "0\ndeny\n1\n")

        let other = try Shell.run("/usr/sbin/runuser", base + ["-u", "app", "--rootfs", rootfs.path, "true"])
        #expect(other.status == 125)
        #expect(other.error.contains("cannot work without root"))
        #expect(other.error.contains("/etc/subuid"))
    }

    @Test func unprivilegedUserRunsContainer() throws {
        try requireRoot()
        let user = "cribtest"
        if (try Shell.run("/usr/bin/id", [user])).status != 0 {
            let created = try Shell.run("/usr/sbin/useradd", ["-m", user])
            #expect(created.status == 0, "useradd \(user): \(created.error)")
        }
        let rootfs = try BusyboxRootfs(owner: user)
        defer { rootfs.remove() }
        let home = "/home/\(user)"
        let command = [
            "-u", user, "--", "env", "HOME=\(home)", Shell.crib, "--root", home + "/crib-test-root", "run", "--rm",
            "-u", "app", "--rootfs", rootfs.path, "sh", "-c",
            "id; grep CapBnd /proc/self/status; cat /proc/self/uid_map",
        ]
        let result = try Shell.run("/usr/sbin/runuser", command)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("uid=1000(app) gid=1000(app) groups=2000(extra)\nCapBnd:\t00000000a80425fb\n"))
        let hostUID = try Shell.run("/usr/bin/id", ["-u", user]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = result.output.split(separator: "\n")
        let firstMap = lines.count > 2 ? lines[2].split(separator: " ").map(String.init) : []
        #expect(firstMap.count == 3)
        #expect(firstMap.first == "0")
        #expect(firstMap.dropFirst().first == hostUID)
    }
}
