import Foundation
import OCI
import Testing

@testable import crib

/// The built crib binary: CRIB_BINARY, or `.build/debug/crib` of this package.
var cribBinaryPath: String { cribBinary }

private var cribBinary: String {
    if let path = ProcessInfo.processInfo.environment["CRIB_BINARY"], !path.isEmpty { return path }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return package.path + "/.build/debug/crib"
}

private struct Outcome {
    var status: Int32
    var output: String
    var errors: String
}

private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cribBinary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
        errors: String(decoding: errorData, as: UTF8.self))
}

@discardableResult
private func sh(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw SystemError("run \(command)", errno: EIO) }
    return String(decoding: data, as: UTF8.self)
}

private func makeWorkDirectory() throws -> String {
    try sh("mktemp -d /tmp/crib-import-XXXXXX").trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("import command", .serialized)
struct ImportCommandTests {
    @Test("same directory gives same manifest in two roots")
    func sameManifestTwice() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree/etc && cd \(work)/tree && printf 'a\\n' > etc/a && ln -s a etc/b && seq 1 100000 > numbers")

        let first = try run(["--root", work + "/one", "import", work + "/tree", "-t", "same", "--change", "ENV A=1"], environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(first.status == 0, "\(first.errors)")
        sleep(1)
        try sh("touch \(work)/tree/numbers")
        let second = try run(["--root", work + "/two", "import", "--timestamp", "1700000000", work + "/tree", "same", "--change", "ENV A=1"])
        #expect(second.status == 0, "\(second.errors)")

        let one = try ContentStore(root: RootDirectory(path: work + "/one")).image("same")
        let two = try ContentStore(root: RootDirectory(path: work + "/two")).image("same")
        #expect(one.digest == two.digest)
        #expect(first.output == second.output)
        #expect(one.config.created == "2023-11-14T22:13:20Z")
    }

    @Test("tarball imports keep the tar stream", arguments: ["plain", "gzip", "zstd"])
    func tarballImport(compression: String) throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree/bin && cd \(work)/tree && printf 'x\\n' > bin/x && tar --sort=name -cf \(work)/root.tar .")
        let plainDigest = "sha256:" + (try sh("sha256sum \(work)/root.tar")).prefix(64)
        let compressor = ["plain": "cat", "gzip": "gzip -c", "zstd": "zstd -qc"][compression]!
        try sh("\(compressor) \(work)/root.tar > \(work)/input")

        let outcome = try run(["--root", work + "/root", "import", work + "/input", "-t", "tarball", "--compression", "zstd"])
        #expect(outcome.status == 0, "\(outcome.errors)")
        let image = try ContentStore(root: RootDirectory(path: work + "/root")).image("tarball")
        #expect(image.config.rootfs.diffIDs.map(\.description) == [plainDigest])
        #expect(image.manifest.layers.first?.mediaType == .ociLayerZstd)
    }

    @Test("tarball from stdin")
    func tarballFromStandardInput() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree && printf 'x\\n' > \(work)/tree/x && tar -C \(work)/tree -cf \(work)/root.tar .")
        let status = try sh("\(cribBinary) --root \(work)/root import - piped < \(work)/root.tar >/dev/null; echo $?")
        #expect(status == "0\n")
        let image = try ContentStore(root: RootDirectory(path: work + "/root")).image("piped")
        #expect(image.config.rootfs.diffIDs.map(\.description) == ["sha256:" + (try sh("sha256sum \(work)/root.tar")).prefix(64)])
    }

    @Test("garbage source leaves the store as it was")
    func garbageSource() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree && printf 'x\\n' > \(work)/tree/x && head -c 4096 /dev/urandom > \(work)/garbage")
        #expect(try run(["--root", work + "/root", "import", work + "/tree", "-t", "good"]).status == 0)
        let index = try sh("cat \(work)/root/store/index.json")
        let blobs = try sh("ls \(work)/root/store/blobs/sha256")

        let outcome = try run(["--root", work + "/root", "import", work + "/garbage", "-t", "bad"])
        #expect(outcome.status == 125)
        #expect(outcome.errors.contains(work + "/garbage"))
        #expect(try sh("cat \(work)/root/store/index.json") == index)
        #expect(try sh("ls \(work)/root/store/blobs/sha256") == blobs)
        #expect(try sh("ls -A \(work)/root/tmp | grep -v '^\\.' || true") == "")
    }

    @Test("tarball writing through its own symlink is rejected")
    func symlinkThenFileThroughIt() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        let sentinel = work + "/outside"
        try sh("mkdir -p \(sentinel)")
        // A symlink to a host directory, then a file whose path goes through it: a tar
        // written from a real tree never contains this pair.
        try sh(
            """
            python3 - <<'PY'
            import io, tarfile
            with tarfile.open('\(work)/hostile.tar', 'w', format=tarfile.PAX_FORMAT) as tar:
                link = tarfile.TarInfo('escape')
                link.type = tarfile.SYMTYPE
                link.linkname = '\(sentinel)'
                tar.addfile(link)
                data = b'written through the symlink\\n'
                evil = tarfile.TarInfo('escape/evil')
                evil.size = len(data)
                tar.addfile(evil, io.BytesIO(data))
            PY
            """)
        try sh("mkdir -p \(work)/tree && printf 'x\\n' > \(work)/tree/x")
        #expect(try run(["--root", work + "/root", "import", work + "/tree", "-t", "good"]).status == 0)
        let indexBefore = try sh("cat \(work)/root/store/index.json")

        let outcome = try run(["--root", work + "/root", "import", work + "/hostile.tar", "-t", "hostile"])
        #expect(outcome.status == 125)
        #expect(outcome.errors.contains("escape/evil"), "\(outcome.errors)")
        #expect(outcome.errors.contains("symlink"), "\(outcome.errors)")
        #expect(try sh("cat \(work)/root/store/index.json") == indexBefore)
        #expect(try sh("ls -A \(sentinel)") == "")
    }

    @Test("symlink replaced by a directory is accepted")
    func symlinkReplacedByDirectory() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh(
            """
            python3 - <<'PY'
            import io, tarfile
            with tarfile.open('\(work)/replaced.tar', 'w', format=tarfile.PAX_FORMAT) as tar:
                link = tarfile.TarInfo('data')
                link.type = tarfile.SYMTYPE
                link.linkname = '/tmp'
                tar.addfile(link)
                directory = tarfile.TarInfo('data')
                directory.type = tarfile.DIRTYPE
                directory.mode = 0o755
                tar.addfile(directory)
                body = b'inside\\n'
                inner = tarfile.TarInfo('data/file')
                inner.size = len(body)
                tar.addfile(inner, io.BytesIO(body))
            PY
            """)
        let outcome = try run(["--root", work + "/root", "import", work + "/replaced.tar", "-t", "replaced"])
        #expect(outcome.status == 0, "\(outcome.errors)")
        #expect(try run(["--root", work + "/root", "unpack", "replaced", work + "/tree"]).status == 0)
        #expect(try sh("cat \(work)/tree/data/file") == "inside\n")
    }

    @Test("failed unpack removes the directory it made")
    func failedUnpackRemovesDirectory() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        // `crib load` stores layers as they come, so an OCI archive is the way to get a layer
        // that the unpacker rejects into the store: a symlink, then a file through it.
        try sh(
            """
            mkdir -p \(work)/outside
            python3 - '\(work)' <<'PY'
            import io, tarfile, json, hashlib, os, sys
            out = sys.argv[1]
            def blob(data):
                d = hashlib.sha256(data).hexdigest()
                os.makedirs(out + '/layout/blobs/sha256', exist_ok=True)
                open(out + '/layout/blobs/sha256/' + d, 'wb').write(data)
                return 'sha256:' + d
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
                ok = tarfile.TarInfo('ok'); body = b'fine\\n'; ok.size = len(body); tar.addfile(ok, io.BytesIO(body))
                link = tarfile.TarInfo('escape'); link.type = tarfile.SYMTYPE; link.linkname = out + '/outside'; tar.addfile(link)
                evil = tarfile.TarInfo('escape/evil'); data = b'x\\n'; evil.size = len(data); tar.addfile(evil, io.BytesIO(data))
            layer = buf.getvalue()
            ld = blob(layer)
            config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
            cd = blob(config)
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
              "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}]}).encode()
            md = blob(manifest)
            index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "hostile"}}]}
            open(out + '/layout/index.json', 'w').write(json.dumps(index))
            open(out + '/layout/oci-layout', 'w').write('{"imageLayoutVersion":"1.0.0"}')
            PY
            tar -C \(work)/layout -cf \(work)/hostile.tar .
            """)
        #expect(try run(["--root", work + "/root", "load", "-i", work + "/hostile.tar"]).status == 0)

        let outcome = try run(["--root", work + "/root", "unpack", "hostile", work + "/tree"])
        #expect(outcome.status == 125)
        #expect(outcome.errors.contains("escape/evil"), "\(outcome.errors)")
        #expect(!FileManager.default.fileExists(atPath: work + "/tree"))
        #expect(try sh("ls -A \(work)/outside") == "")

        // A directory that existed before is the user's: it stays, with what was unpacked.
        try sh("mkdir \(work)/mine")
        #expect(try run(["--root", work + "/root", "unpack", "hostile", work + "/mine"]).status == 125)
        #expect(FileManager.default.fileExists(atPath: work + "/mine/ok"))
    }

    @Test("damaged layer blob named at run")
    func damagedLayerNamedAtRun() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree && head -c 300000 /dev/urandom > \(work)/tree/data")
        #expect(try run(["--root", work + "/root", "import", "--compression", "gzip", work + "/tree", "-t", "damaged"]).status == 0)
        // The largest blob is the layer; one flipped byte in the middle breaks its gzip stream.
        let layer = try sh("ls -S \(work)/root/store/blobs/sha256 | head -1").trimmingCharacters(in: .whitespacesAndNewlines)
        let path = "\(work)/root/store/blobs/sha256/\(layer)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))

        let outcome = try run(["--root", work + "/root", "run", "--rm", "damaged", "true"])
        #expect(outcome.status == 125)
        #expect(outcome.errors.contains("failed to unpack layer sha256:"), "\(outcome.errors)")
        #expect(outcome.errors.contains("hint: a stored blob may be damaged: crib check"), "\(outcome.errors)")
        let check = try run(["--root", work + "/root", "check"])
        #expect(check.status != 0)
        #expect(check.output.contains(layer), "\(check.output)")
    }

    @Test("changes set config fields")
    func changesSetConfig() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree && printf 'x\\n' > \(work)/tree/x")
        let outcome = try run([
            "--root", work + "/root", "import", work + "/tree", "-t", "changed",
            "-c", "ENV PATH=/usr/bin LANG=C.UTF-8", "-c", "ENV LEGACY some value", "-c", #"CMD ["java", "-jar", "app.jar"]"#,
            "-c", "ENTRYPOINT /entry.sh run", "-c", "USER 1001:0", "-c", "WORKDIR /work", "-c", "EXPOSE 9080 9443/tcp",
            "-c", #"LABEL name="open liberty" version=1"#,
        ])
        #expect(outcome.status == 0, "\(outcome.errors)")
        let config = try #require(try ContentStore(root: RootDirectory(path: work + "/root")).image("changed").config.config)
        #expect(config.env == ["PATH=/usr/bin", "LANG=C.UTF-8", "LEGACY=some value"])
        #expect(config.cmd == ["java", "-jar", "app.jar"])
        #expect(config.entrypoint == ["/bin/sh", "-c", "/entry.sh run"])
        #expect(config.user == "1001:0")
        #expect(config.workingDir == "/work")
        #expect(config.exposedPorts.map { Set($0.keys) } == ["9080/tcp", "9443/tcp"])
        #expect(config.labels == ["name": "open liberty", "version": "1"])
    }

    @Test("invalid change is rejected", arguments: ["FROM x", "RUN true", "ENV", "EXPOSE http", #"LABEL a="open"#])
    func invalidChange(change: String) throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh("mkdir -p \(work)/tree")
        let outcome = try run(["--root", work + "/root", "import", work + "/tree", "-t", "x", "-c", change])
        #expect(outcome.status == 125)
        #expect(outcome.errors.contains("--change"))
    }
}

@Suite("unprivileged unpack", .serialized)
struct UnprivilegedUnpackTests {
    @Test("user namespace unpack keeps ownership for the next layer")
    func ownershipKeptInXattr() throws {
        guard geteuid() == 0 else {
            Issue.record("this test needs root to create files owned by other users and a device node")
            return
        }
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        try sh(
            """
            set -e
            mkdir -p \(work)/tree/dir
            printf 'x\\n' > \(work)/tree/dir/file
            chown 1234:5678 \(work)/tree/dir/file && chmod 4750 \(work)/tree/dir/file
            chown 42:43 \(work)/tree/dir
            mknod \(work)/tree/chardev c 1 3
            """)
        #expect(try run(["--root", work + "/root", "import", work + "/tree", "-t", "owned", "--timestamp", "0"]).status == 0)

        // Root of a new user namespace maps only uid 0: chown to 1234 and mknod both fail there.
        let unpack = Process()
        unpack.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        unpack.arguments = ["--user", "--map-root-user", cribBinaryPath, "--root", work + "/root", "unpack", "owned", work + "/out"]
        let errors = Pipe()
        unpack.standardError = errors
        try unpack.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        unpack.waitUntilExit()
        #expect(unpack.terminationStatus == 0, "\(message)")
        #expect(message.contains("chardev"), "\(message)")

        let record = try sh("getfattr --only-values -n user.crib.ownership \(work)/out/dir/file")
        #expect(record == "1234:5678:4750")
        #expect(try sh("stat -c %u \(work)/out/dir/file") == "0\n")
        #expect(!FileManager.default.fileExists(atPath: work + "/out/chardev"))

        #expect(try run(["--root", work + "/root", "import", work + "/out", "-t", "again", "--timestamp", "0"]).status == 0)
        let layer = try ContentStore(root: RootDirectory(path: work + "/root")).image("again").manifest.layers[0].digest
        let listing = try sh("tar -tvzf \(work)/root/store/blobs/sha256/\(layer.encoded)")
        #expect(listing.contains("-rwsr-x--- 1234/5678"), "\(listing)")
        #expect(listing.contains("drwxr-xr-x 42/43"), "\(listing)")
    }
}

@Suite("import memory")
struct ImportMemoryTests {
    @Test("gzip import memory stays bounded")
    func gzipImportMemoryBounded() throws {
        let work = try makeWorkDirectory()
        defer { _ = try? sh("rm -rf \(work)") }
        // 160 MiB that does not compress: a writer that kept its blocks would pass 300 MB.
        try sh("mkdir -p \(work)/tree && head -c 167772160 /dev/urandom > \(work)/tree/random && seq 1 3000000 > \(work)/tree/numbers")
        for compression in ["gzip", "zstd"] {
            let report = try sh(
                "/usr/bin/time -f %M \(cribBinaryPath) --root \(work)/root import --compression \(compression) \(work)/tree -t memory 2>&1 >/dev/null | tail -1")
            let kilobytes = try #require(Int(report.trimmingCharacters(in: .whitespacesAndNewlines)), "\(report)")
            #expect(kilobytes < 64 * 1024, "\(compression) import peaked at \(kilobytes) KiB")
        }
    }
}
