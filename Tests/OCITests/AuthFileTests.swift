import Foundation
import Testing

@testable import OCI

struct AuthFileTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "crib-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func storeReadRemove() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = AuthFile(path: directory + "/containers/auth.json")

        try file.store(RegistryCredentials(username: "u", password: "p:w"), for: "127.0.0.1:5000")
        #expect(try file.credentials(for: "127.0.0.1:5000") == RegistryCredentials(username: "u", password: "p:w"))
        #expect(try file.credentials(for: "other:5000") == nil)

        var info = stat()
        #expect(stat(file.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        #expect(try file.remove("127.0.0.1:5000"))
        #expect(try file.credentials(for: "127.0.0.1:5000") == nil)
        #expect(try !file.remove("127.0.0.1:5000"))
    }

    @Test func keepsOtherKeysWhenWriting() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/auth.json"
        try #"{"auths":{"keep.example":{"auth":"YTpi"}},"credHelpers":{"x":"y"}}"#.write(
            toFile: path, atomically: true, encoding: .utf8)
        let file = AuthFile(path: path)
        try file.store(RegistryCredentials(username: "n", password: "m"), for: "new.example")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("credHelpers"))
        #expect(try file.credentials(for: "keep.example") == RegistryCredentials(username: "a", password: "b"))
    }

    @Test func readsDockerConfig() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/home/.docker", withIntermediateDirectories: true)
        let encoded = Data("docker:hub".utf8).base64EncodedString()
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(encoded)"}}}"#.write(
            toFile: directory + "/home/.docker/config.json", atomically: true, encoding: .utf8)
        let file = AuthFile.standard(environment: ["HOME": directory + "/home", "XDG_RUNTIME_DIR": directory + "/run"])
        #expect(file.path == directory + "/run/containers/auth.json")
        #expect(try file.credentials(for: "docker.io") == RegistryCredentials(username: "docker", password: "hub"))
    }

    @Test func malformedEntryNamedWithoutSecret() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/auth.json"
        try #"{"auths":{"bad.example":{"auth":"!!not-base64-secret!!"}}}"#.write(
            toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try AuthFile(path: path).credentials(for: "bad.example")
            Issue.record("a malformed entry was accepted")
        } catch {
            #expect("\(error)".contains("bad.example"))
            #expect("\(error)".contains(path))
            #expect(!"\(error)".contains("not-base64-secret"))
        }
    }

    @Test func credentialsDescriptionHidesPassword() {
        let credentials = RegistryCredentials(username: "alice", password: "hunter2")
        #expect(!"\(credentials)".contains("hunter2"))
        #expect(!String(reflecting: credentials).contains("hunter2"))
    }
}
