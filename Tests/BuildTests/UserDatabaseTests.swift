import Testing

@testable import Build

struct UserDatabaseTests {
    static let database = UserDatabase(
        passwd: "# users\nroot:x:0:0:root:/root:/bin/sh\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\napp:x:1001:0::/config:/bin/sh\nbroken line\n",
        group: "root:x:0:\nstaff:x:50:app\nbad:x:notanumber:\n")

    @Test(arguments: [
        ("0", 0, 0), ("1001", 1001, 1001), ("10:11", 10, 11), ("bin", 2, 2), ("app", 1001, 1001), ("app:staff", 1001, 50),
        ("app:7", 1001, 7), ("55:staff", 55, 50), ("root:root", 0, 0),
    ] as [(String, UInt32, UInt32)])
    func resolvesOwner(spec: String, uid: UInt32, gid: UInt32) throws {
        let owner = try Self.database.resolveOwner(spec, at: SourceLocation(file: "Dockerfile", line: 4), keyword: "COPY")
        #expect(owner.uid == uid)
        #expect(owner.gid == gid)
    }

    @Test(arguments: [
        ("nobody", "Dockerfile:4: COPY --chown=nobody: user nobody not found in the image's /etc/passwd"),
        ("app:wheel", "Dockerfile:4: COPY --chown=app:wheel: group wheel not found in the image's /etc/group"),
        ("app:bad", "Dockerfile:4: COPY --chown=app:bad: group bad not found"),
        (":staff", "Dockerfile:4: invalid COPY --chown=:staff: expected USER[:GROUP]"),
        ("app:", "Dockerfile:4: invalid COPY --chown=app:: expected USER[:GROUP]"),
    ])
    func rejectsUnknownNames(spec: String, message: String) {
        do {
            let owner = try Self.database.resolveOwner(spec, at: SourceLocation(file: "Dockerfile", line: 4), keyword: "COPY")
            Issue.record("resolved to \(owner)")
        } catch {
            #expect("\(error)".hasPrefix(message), "got: \(error)")
        }
    }

    @Test func imageWithoutFilesTakesOnlyIds() throws {
        let empty = UserDatabase(passwd: nil, group: nil)
        let owner = try empty.resolveOwner("7:8", at: SourceLocation(file: "D", line: 1), keyword: "ADD")
        #expect(owner.uid == 7)
        #expect(owner.gid == 8)
        #expect(throws: BuildError.self) { try empty.resolveOwner("root", at: SourceLocation(file: "D", line: 1), keyword: "ADD") }
    }
}
