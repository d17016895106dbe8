import OCI
import Testing

@testable import Build

/// Plans `text` with images resolved from `images` (by reference); unknown images are empty.
private func plan(
    _ text: String, options: BuildOptions = BuildOptions(), images: [String: ImageSettings] = [:]
) throws -> BuildPlan {
    let dockerfile = try DockerfileParser.parse(text)
    return try BuildPlanner(dockerfile: dockerfile, options: options) { reference, _ in
        images[reference] ?? ImageSettings()
    }.plan()
}

private func runArgv(_ step: PlannedStep) -> [String]? {
    guard case .run(let run) = step.action, case .argv(let argv) = run.command else { return nil }
    return argv
}

private func copyStep(_ step: PlannedStep) -> CopyStep? {
    guard case .copy(let copy) = step.action else { return nil }
    return copy
}

private func runStep(_ step: PlannedStep) -> RunStep? {
    guard case .run(let run) = step.action else { return nil }
    return run
}

struct BuildPlannerTests {
    @Test func globalArgsScopeOnlyFrom() throws {
        let text = """
            ARG VERSION=1.36
            ARG BASE=busybox
            FROM $BASE:$VERSION
            RUN echo $VERSION
            ARG VERSION
            RUN echo again
            """
        let result = try plan(text)
        let stage = result.target
        #expect(stage.base == .image("busybox:1.36"))
        #expect(stage.steps[0].arguments.isEmpty)
        #expect(runStep(stage.steps[0])?.environment.contains("VERSION=1.36") == false)
        #expect(stage.steps[2].arguments == ["VERSION": "1.36"])
        #expect(runStep(stage.steps[2])?.environment.contains("VERSION=1.36") == true)
        #expect(stage.steps[2].summary == "RUN |1 VERSION=1.36 /bin/sh -c echo again")
    }

    @Test func buildArgOverridesDefaults() throws {
        let text = "ARG VERSION=1\nFROM busybox:$VERSION\nARG VERSION\nARG LOCAL=default\nWORKDIR /$VERSION/$LOCAL\n"
        let options = BuildOptions(buildArgs: ["VERSION": "2", "LOCAL": "given", "UNUSED": "x", "HTTP_PROXY": "http://proxy.test"])
        let result = try plan(text, options: options)
        #expect(result.target.base == .image("busybox:2"))
        #expect(result.target.settings.workingDirectory == "/2/given")
        #expect(result.unusedBuildArgs == ["UNUSED"])
    }

    @Test func argWithoutValueIsUnset() throws {
        let result = try plan("FROM busybox\nARG EMPTY\nENV A=${EMPTY-unset} B=${EMPTY:-empty}\n")
        #expect(result.target.settings.environment == ["A=unset", "B=empty"])
    }

    @Test func envOverridesArg() throws {
        let result = try plan("FROM busybox\nARG NAME=fromarg\nENV NAME=fromenv\nWORKDIR /$NAME\n", options: BuildOptions(buildArgs: ["NAME": "given"]))
        #expect(result.target.settings.workingDirectory == "/fromenv")
    }

    @Test func envLineSeesEarlierValues() throws {
        let result = try plan("FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n")
        #expect(result.target.settings.environment == ["abc=bye", "def=hello", "ghi=bye"])
    }

    @Test func referenceExpansionExample() throws {
        let result = try plan("FROM busybox\nENV FOO=/bar\nWORKDIR ${FOO}\nADD . $FOO\nCOPY \\$FOO /quux\n")
        let steps = result.target.steps
        #expect(steps[1].action == .workdir("/bar"))
        #expect(copyStep(steps[2])?.destination == "/bar")
        #expect(copyStep(steps[2])?.sources == [.path(".")])
        #expect(copyStep(steps[3])?.sources == [.path("$FOO")])
        #expect(copyStep(steps[3])?.destination == "/quux")
    }

    @Test func baseSettingsAreInherited() throws {
        let base = ImageSettings(environment: ["PATH=/usr/bin:/bin"], workingDirectory: "/srv", cmd: ["sh"], labels: ["from": "base"])
        let text = "FROM example.test/base\nENV PATH=$PATH:/opt/bin\nWORKDIR app\nENTRYPOINT [\"/init\"]\n"
        let result = try plan(text, images: ["example.test/base": base])
        let settings = result.target.settings
        #expect(settings.environment == ["PATH=/usr/bin:/bin:/opt/bin"])
        #expect(settings.workingDirectory == "/srv/app")
        #expect(settings.entrypoint == ["/init"])
        #expect(settings.cmd == nil)
        #expect(settings.labels == ["from": "base"])
    }

    @Test func entrypointKeepsCmdOfSameStage() throws {
        let result = try plan("FROM busybox\nCMD serve --port 80\nENTRYPOINT [\"/init\"]\n")
        #expect(result.target.settings.cmd == ["/bin/sh", "-c", "serve --port 80"])
        #expect(result.target.settings.entrypoint == ["/init"])
    }

    @Test func onbuildTriggersRunFirst() throws {
        let base = ImageSettings(onBuild: ["RUN echo triggered", "ENV FROM_TRIGGER=1"])
        let result = try plan("FROM base\nRUN echo mine\nONBUILD RUN echo next\n", images: ["base": base])
        let steps = result.target.steps
        #expect(steps.map(\.isTrigger) == [true, true, false, false])
        #expect(runArgv(steps[0]) == ["/bin/sh", "-c", "echo triggered"])
        #expect(result.target.settings.environment == ["FROM_TRIGGER=1"])
        #expect(result.target.settings.onBuild == ["RUN echo next"])
    }

    @Test func runForms() throws {
        let text = """
            FROM busybox
            RUN echo shell
            RUN ["/bin/echo", "exec"]
            SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
            RUN echo bash
            RUN <<EOF
            echo one
            echo two
            EOF
            RUN <<-EOF
            \t#!/usr/bin/env python3
            \tprint("hi")
            \tEOF
            RUN cat <<A >/a && cat <<-B >/b
            $HOME
            A
            \tb
            \tB
            """
        let steps = try plan(text).target.steps
        #expect(runArgv(steps[0]) == ["/bin/sh", "-c", "echo shell"])
        #expect(runArgv(steps[1]) == ["/bin/echo", "exec"])
        #expect(runArgv(steps[3]) == ["/bin/bash", "-euo", "pipefail", "-c", "echo bash"])
        #expect(runArgv(steps[4]) == ["/bin/bash", "-euo", "pipefail", "-c", "echo one\necho two\n"])
        #expect(runStep(steps[5])?.command == .script(name: "EOF", content: "#!/usr/bin/env python3\nprint(\"hi\")\n"))
        #expect(runArgv(steps[6]) == ["/bin/bash", "-euo", "pipefail", "-c", "cat <<A >/a && cat <<-B >/b\n$HOME\nA\n\tb\nB\n"])
    }

    @Test func runNetworkAndProxies() throws {
        let options = BuildOptions(buildArgs: ["https_proxy": "http://proxy.test:3128"], network: "none")
        let steps = try plan("FROM busybox\nRUN true\nRUN --network=host true\n", options: options).target.steps
        #expect(runStep(steps[0])?.network == "none")
        #expect(runStep(steps[1])?.network == "host")
        #expect(runStep(steps[0])?.environment == ["https_proxy=http://proxy.test:3128"])
        #expect(steps[0].summary == "RUN /bin/sh -c true")
    }

    @Test func copyHeredocExpansion() throws {
        let text = "FROM busybox\nARG FOO=bar\nCOPY <<EOF <<'RAW' /etc/\necho \"hello ${FOO}\"\nEOF\necho \"hello ${FOO}\"\nRAW\n"
        let copy = try #require(copyStep(try plan(text).target.steps[1]))
        #expect(copy.sources == [.heredoc(name: "EOF", content: "echo \"hello bar\"\n"), .heredoc(name: "RAW", content: "echo \"hello ${FOO}\"\n")])
        #expect(copy.destination == "/etc")
        #expect(copy.destinationIsDirectory)
    }

    @Test func copyPathsAndFlags() throws {
        let text = """
            FROM busybox
            WORKDIR /app
            COPY --chown=app:staff --chmod=0640 ../../etc/passwd ./conf/ .
            COPY a b/
            ADD --checksum=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef https://example.test/file.tar /opt/
            """
        let steps = try plan(text).target.steps
        let first = try #require(copyStep(steps[1]))
        #expect(first.sources == [.path("etc/passwd"), .path("conf")])
        #expect(first.destination == "/app")
        #expect(first.destinationIsDirectory)
        #expect(first.chown == "app:staff")
        #expect(first.chmod == 0o640)
        #expect(copyStep(steps[2])?.destination == "/app/b")
        #expect(copyStep(steps[2])?.destinationIsDirectory == true)
        #expect(copyStep(steps[3])?.sources == [.url("https://example.test/file.tar")])
        #expect(steps[1].summary == "COPY --chown=app:staff --chmod=640 etc/passwd conf /app/")
    }

    @Test func configInstructions() throws {
        let text = """
            FROM scratch
            ARG PORT=8080
            EXPOSE $PORT 9000-9002/udp 53/UDP
            VOLUME /data ["ignored"]
            VOLUME ["/cache", "/data"]
            USER ${USER_NAME:-app}:staff
            STOPSIGNAL SIGRTMIN+3
            LABEL org.opencontainers.image.title="crib test" version=$PORT
            HEALTHCHECK --interval=5s CMD wget -q -O- http://localhost:$PORT/
            CMD ["serve"]
            MAINTAINER someone@example.test
            """
        let result = try plan(text, options: BuildOptions(labels: ["version": "override"]))
        let settings = result.target.settings
        #expect(result.target.base == .scratch)
        #expect(settings.exposedPorts == ["53/udp", "8080/tcp", "9000/udp", "9001/udp", "9002/udp"])
        #expect(settings.volumes == ["/cache", "/data", "[ignored]"])
        #expect(settings.user == "app:staff")
        #expect(settings.stopSignal == "SIGRTMIN+3")
        #expect(settings.labels == ["org.opencontainers.image.title": "crib test", "version": "override"])
        #expect(settings.healthcheck == HealthcheckSettings(test: ["CMD-SHELL", "wget -q -O- http://localhost:$PORT/"], interval: 5_000_000_000))
        #expect(settings.cmd == ["serve"])
        #expect(settings.author == "someone@example.test")
    }

    @Test func stagesInDependencyOrder() throws {
        let text = """
            FROM busybox AS base
            RUN echo base
            FROM busybox AS unused
            RUN echo never
            FROM busybox AS tools
            FROM base AS build
            COPY --from=tools /bin/tool /usr/bin/
            FROM busybox
            COPY --from=build /out /out
            COPY --from=0 /etc/hostname /h
            COPY --from=example.test/image:1 /x /x
            """
        let result = try plan(text)
        #expect(result.stages.map(\.index) == [0, 2, 3, 4])
        #expect(result.stages[2].base == .stage(0))
        #expect(result.stages[2].dependencies == [0, 2])
        #expect(result.target.dependencies == [3, 0])
        #expect(copyStep(result.target.steps[2])?.origin == .image("example.test/image:1"))

        let targeted = try plan(text, options: BuildOptions(target: "BUILD"))
        #expect(targeted.stages.map(\.index) == [0, 2, 3])
        #expect(targeted.target.stage.name == "build")
    }

    @Test func fromStageInheritsSettings() throws {
        let result = try plan("FROM busybox AS one\nENV A=1\nWORKDIR /w\nFROM one\nRUN pwd\n")
        #expect(result.target.base == .stage(0))
        #expect(runStep(result.target.steps[0])?.workingDirectory == "/w")
        #expect(runStep(result.target.steps[0])?.environment == ["A=1"])
    }

    @Test(arguments: [
        ("FROM busybox AS first\nCOPY --from=later /a /b\nFROM busybox AS later\nCOPY --from=first /a /b\n", "Dockerfile:2: COPY --from=later names stage \"later\" at Dockerfile:3, which is not before this one"),
        ("FROM busybox\nCOPY --from=1 /a /b\n", "Dockerfile:2: COPY --from=1 names stage 1, but only stages before this one"),
        ("ARG BASE\nFROM $BASE\n", "Dockerfile:2: FROM $BASE expands to an empty image name"),
        ("FROM busybox\nCOPY a b /dir\n", "Dockerfile:2: COPY with more than one source requires a destination directory ending in /"),
        ("FROM busybox\nCOPY --chmod=999 a /b\n", "Dockerfile:2: invalid --chmod=999"),
        ("FROM busybox\nEXPOSE 80/icmp\n", "Dockerfile:2: invalid EXPOSE protocol"),
        ("FROM busybox\nEXPOSE 70000\n", "Dockerfile:2: invalid EXPOSE port \"70000\""),
        ("FROM busybox\nSTOPSIGNAL SIGNOPE\n", "Dockerfile:2: invalid STOPSIGNAL \"SIGNOPE\""),
        ("FROM busybox\nWORKDIR ${A:?must be set}\n", "Dockerfile:2: failed to expand \"${A:?must be set}\": A: must be set"),
        ("FROM busybox\nADD --checksum=sha256:00 local.tar /x\n", "Dockerfile:2: ADD --checksum requires http or https sources"),
        ("FROM busybox\nRUN --network=bridge true\n", "Dockerfile:2: invalid RUN --network=bridge"),
        ("FROM busybox\nRUN --security=insecure true\n", "Dockerfile:2: RUN --security=insecure is not supported"),
        ("FROM busybox\nRUN --security=loose true\n", "Dockerfile:2: invalid RUN --security=loose"),
        ("FROM busybox\nUSER $NOBODY\n", "Dockerfile:2: USER expands to an empty value"),
    ])
    func rejectsWithLocation(text: String, message: String) {
        do {
            let result = try plan(text)
            Issue.record("planned without error: \(result.target.steps.map(\.summary))")
        } catch {
            #expect("\(error)".hasPrefix(message), "got: \(error)")
        }
    }

    @Test func unknownTargetRejected() {
        #expect(throws: BuildError.self) { try plan("FROM busybox AS a\n", options: BuildOptions(target: "b")) }
        do {
            _ = try plan("FROM busybox AS a\n", options: BuildOptions(target: "b"))
        } catch {
            #expect("\(error)" == "target stage \"b\" not found in the Dockerfile")
        }
    }

    @Test func platformArgsInFrom() throws {
        let options = BuildOptions(platform: Platform(architecture: "arm64", os: "linux", variant: "v8"))
        let result = try plan("FROM --platform=$BUILDPLATFORM busybox:$TARGETARCH\nARG TARGETPLATFORM\nENV P=$TARGETPLATFORM\n", options: options)
        #expect(result.target.base == .image("busybox:arm64"))
        #expect(result.target.platform == Platform.current.description)
        #expect(result.target.settings.environment == ["P=linux/arm64/v8"])
    }
}
