import Testing

@testable import OCI

struct AuthChallengeTests {
    @Test(arguments: [
        (
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
            [
                AuthChallenge(
                    scheme: "Bearer",
                    parameters: [
                        "realm": "https://auth.example.com/token", "service": "registry.example.com",
                        "scope": "repository:a/b:pull,push",
                    ])
            ]
        ),
        (#"Basic realm="crib test""#, [AuthChallenge(scheme: "basic", parameters: ["realm": "crib test"])]),
        (
            #"Basic realm="a", Bearer realm="https://t/x",scope="s""#,
            [
                AuthChallenge(scheme: "basic", parameters: ["realm": "a"]),
                AuthChallenge(scheme: "bearer", parameters: ["realm": "https://t/x", "scope": "s"]),
            ]
        ),
        (
            #"Bearer realm="quote \" inside""#,
            [AuthChallenge(scheme: "bearer", parameters: ["realm": "quote \" inside"])]
        ),
        ("Negotiate", [AuthChallenge(scheme: "negotiate", parameters: [:])]),
        ("", []),
    ])
    func challengeParsed(header: String, expected: [AuthChallenge]) {
        #expect(AuthChallenge.parse(header) == expected)
    }
}
