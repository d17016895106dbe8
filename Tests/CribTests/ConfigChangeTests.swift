import OCI
import Testing

@testable import crib

@Suite("config changes")
struct ConfigChangeTests {
    static let words: [(String, [String])] = [
        ("a=b c=d", ["a=b", "c=d"]),
        (#"name="open liberty" v=1"#, ["name=open liberty", "v=1"]),
        ("x='single quoted' y", ["x=single quoted", "y"]),
        (#"path=a\ b"#, ["path=a b"]),
        ("  spaced   out  ", ["spaced", "out"]),
        (#"empty="""#, ["empty="]),
    ]

    @Test("words split like a shell", arguments: words)
    func wordsSplit(text: String, expected: [String]) throws {
        #expect(try ConfigChange.words(text) == expected)
    }

    static let changes: [(String, ContainerConfig)] = {
        var env = ContainerConfig()
        env.env = ["A=1", "B=two words"]
        var legacy = ContainerConfig()
        legacy.env = ["JAVA_OPTS=-Xmx1g -Xms1g"]
        var cmd = ContainerConfig()
        cmd.cmd = ["/bin/sh", "-c", "echo hi"]
        var entrypoint = ContainerConfig()
        entrypoint.entrypoint = ["/opt/ol/helpers/runtime/docker-server.sh"]
        var expose = ContainerConfig()
        expose.exposedPorts = ["9080/tcp": EmptyObject(), "53/udp": EmptyObject()]
        var workdir = ContainerConfig()
        workdir.workingDir = "/opt/ol/wlp"
        return [
            (#"ENV A=1 B="two words""#, env), ("env JAVA_OPTS -Xmx1g -Xms1g", legacy), ("CMD echo hi", cmd),
            (#"ENTRYPOINT ["/opt/ol/helpers/runtime/docker-server.sh"]"#, entrypoint), ("EXPOSE 9080 53/udp", expose),
            ("WORKDIR /opt/ol/wlp", workdir),
        ]
    }()

    @Test("change sets config", arguments: changes)
    func changeSetsConfig(text: String, expected: ContainerConfig) throws {
        var config = ContainerConfig()
        try ConfigChange(parsing: text).apply(to: &config)
        #expect(config == expected)
    }

    @Test("invalid change names itself", arguments: ["COPY a b", "ENV", "LABEL novalue", "EXPOSE 70000", #"LABEL a="b"#])
    func invalidChange(text: String) {
        do {
            var config = ContainerConfig()
            try ConfigChange(parsing: text).apply(to: &config)
            Issue.record("expected \(text) to be rejected")
        } catch {
            #expect("\(error)".contains(text.split(separator: " ")[0].uppercased()), "\(error)")
        }
    }
}
