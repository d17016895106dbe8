import Testing

@testable import Build

/// The values `crib build --secret` takes.
struct BuildSecretTests {
    @Test(arguments: [
        ("id=token,src=/run/token", "token", BuildSecret.Source.file("/run/token")),
        ("id=token,source=/run/token,type=file", "token", BuildSecret.Source.file("/run/token")),
        ("id=token,env=API_TOKEN", "token", BuildSecret.Source.environment("API_TOKEN")),
        ("id=API_TOKEN", "API_TOKEN", BuildSecret.Source.environment("API_TOKEN")),
        ("type=env,id=token,src=API_TOKEN", "token", BuildSecret.Source.environment("API_TOKEN")),
    ])
    func valuesParse(text: String, id: String, source: BuildSecret.Source) throws {
        let secret = try BuildSecret(parsing: text)
        #expect(secret.id == id)
        #expect(secret.source == source)
    }

    @Test(arguments: [
        ("src=/run/token", "id= is required"),
        ("id=", "id= is required"),
        ("id=a,src=/x,env=Y", "give either src= or env=, not both"),
        ("id=a,type=ssh", "unknown type \"ssh\"; expected file or env"),
        ("id=a,path=/x", "unknown key \"path\""),
        ("id=a,src", "expected key=value, got \"src\""),
    ])
    func invalidValuesNamed(text: String, message: String) {
        do {
            _ = try BuildSecret(parsing: text)
            Issue.record("--secret \(text) was accepted")
        } catch {
            #expect("\(error)".hasPrefix("invalid --secret \"\(text)\": "), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
