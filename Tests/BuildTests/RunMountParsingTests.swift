import Testing

@testable import Build

/// `RUN --mount` options as the planner reads them: defaults, aliases, expansion and the
/// errors for options crib cannot honour.
struct RunMountParsingTests {
    private func mounts(_ text: String) throws -> [RunMount] {
        let dockerfile = try DockerfileParser.parse(text, file: "Dockerfile")
        let plan = try BuildPlanner(dockerfile: dockerfile) { _, _ in ImageSettings() }.plan()
        guard let step = plan.target.steps.last, case .run(let run) = step.action else { return [] }
        return run.mounts
    }

    @Test(arguments: [
        ("type=bind,target=/src", "type=bind,target=/src,from=context,source=.,ro"),
        ("target=src,source=/app/../lib,rw", "type=bind,target=/work/src,from=context,source=lib,rw"),
        ("type=bind,dst=/m,src=x,from=base,readonly=false", "type=bind,target=/m,from=stage:0,source=x,rw"),
        ("type=bind,destination=/m,from=other-image", "type=bind,target=/m,from=image:other-image,source=.,ro"),
        ("type=cache,target=/root/.cache", "type=cache,target=/root/.cache,id=/root/.cache,sharing=shared,mode=755,uid=0,gid=0,rw"),
        (
            "type=cache,target=/c,id=$NAME,sharing=locked,mode=0700,uid=1000,gid=50,ro",
            "type=cache,target=/c,id=go-build,sharing=locked,mode=700,uid=1000,gid=50,ro"
        ),
        ("type=tmpfs,target=/t", "type=tmpfs,target=/t,size=default,rw"),
        ("type=tmpfs,target=/t,size=64m", "type=tmpfs,target=/t,size=67108864,rw"),
        ("type=secret,id=token", "type=secret,target=/run/secrets/token,id=token,mode=400,uid=0,gid=0,required=false,env=,file=true,ro"),
        (
            "type=secret,target=/etc/key.pem,required,mode=0440",
            "type=secret,target=/etc/key.pem,id=key.pem,mode=440,uid=0,gid=0,required=true,env=,file=true,ro"
        ),
        (
            "type=secret,id=token,env=TOKEN",
            "type=secret,target=/run/secrets/token,id=token,mode=400,uid=0,gid=0,required=false,env=TOKEN,file=false,ro"
        ),
    ])
    func optionsParse(option: String, expected: String) throws {
        let text = "FROM scratch AS base\nFROM scratch\nARG NAME=go-build\nWORKDIR /work\nRUN --mount=\(option) make\n"
        let parsed = try mounts(text)
        #expect(parsed.count == 1)
        #expect(parsed.first?.keyText == expected)
    }

    @Test func parentsMountFirst() throws {
        let parsed = try mounts(
            "FROM scratch\nRUN --mount=type=tmpfs,target=/a/b/c --mount=type=cache,target=/a --mount=type=tmpfs,target=/a/b make\n")
        #expect(parsed.map(\.target) == ["/a", "/a/b", "/a/b/c"])
    }

    @Test func fromStageIsDependency() throws {
        let dockerfile = try DockerfileParser.parse(
            "FROM scratch AS tools\nFROM scratch AS unused\nFROM scratch\nRUN --mount=from=tools,target=/tools make\n", file: "Dockerfile")
        let plan = try BuildPlanner(dockerfile: dockerfile) { _, _ in ImageSettings() }.plan()
        #expect(plan.stages.map(\.index) == [0, 2])
        #expect(plan.target.dependencies == [0])
    }

    @Test(arguments: [
        ("type=ssh", "type=ssh is not supported"),
        ("type=volume,target=/v", "unknown type \"volume\"; expected bind, cache, tmpfs or secret"),
        ("type=bind,target=/m,colour=red", "unknown option \"colour\""),
        ("type=bind", "target= is required for type=bind"),
        ("type=cache,target=/", "target cannot be /"),
        ("type=cache,target=/c,sharing=sometimes", "sharing expects shared, private or locked, got \"sometimes\""),
        ("type=cache,target=/c,from=base", "type=cache does not take from"),
        ("type=cache,target=/c,mode=999", "mode expects an octal mode such as 0755, got \"999\""),
        ("type=cache,target=/c,uid=me", "uid expects a number, got \"me\""),
        ("type=tmpfs,target=/t,size=lots", "size expects bytes, optionally with a k, m or g suffix, got \"lots\""),
        ("type=bind,target=/m,ro,rw", "give either ro or rw, not both"),
        ("type=bind,target=/m,id=x", "type=bind does not take id"),
        ("type=secret", "a secret needs id= or target="),
        ("type=secret,id=s,rw", "a secret is always mounted read-only"),
        ("type=bind,target=/m,target=/n", "option \"target\" is given more than once"),
        ("type=bind,target", "option \"target\" requires a value"),
    ])
    func invalidOptionsNameLine(option: String, message: String) throws {
        do {
            _ = try mounts("FROM scratch AS base\nRUN --mount=\(option) make\n")
            Issue.record("--mount=\(option) was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("Dockerfile:2: invalid RUN --mount=\(option): "), "\(text)")
            #expect(text.contains(message), "\(text)")
        }
    }
}
