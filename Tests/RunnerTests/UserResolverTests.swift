import Testing

@testable import Runner

struct UserResolverTests {
    let resolver = UserResolver(
        passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nbroken line\n",
        group: "root:x:0:\napp:x:1000:\nextra:x:2000:app,other\nwheel:x:10:root\n")

    @Test(arguments: [
        ("root", 0, 0, [10]),
        ("app", 1000, 1000, [2000]),
        ("1000", 1000, 1000, [2000]),
        ("4242", 4242, 0, []),
        ("app:extra", 1000, 2000, []),
        ("app:77", 1000, 77, []),
        ("4242:4243", 4242, 4243, []),
    ])
    func resolves(text: String, uid: Int, gid: Int, groups: [Int]) throws {
        let user = try resolver.resolve(text)
        #expect(user.uid == UInt32(uid))
        #expect(user.gid == UInt32(gid))
        #expect(user.supplementaryGroups == groups.map(UInt32.init))
    }

    @Test(arguments: [
        ("ghost", "failed to find user \"ghost\" in the container's /etc/passwd"),
        ("app:ghosts", "failed to find group \"ghosts\" in the container's /etc/group"),
    ])
    func unknownNameFailsNamingIt(text: String, message: String) {
        #expect {
            try resolver.resolve(text)
        } throws: { error in
            String(describing: error) == message
        }
    }
}
