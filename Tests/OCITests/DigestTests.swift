import Foundation
import Testing

@testable import OCI

struct DigestTests {
    @Test func emptyInputHash() {
        #expect(Digest.sha256(Data()).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func streamingEqualsOneShot() {
        var hasher = SHA256Hasher()
        hasher.update(Data("hello ".utf8))
        hasher.update(Data("world".utf8))
        #expect(hasher.finalize() == Digest.sha256(Data("hello world".utf8)))
        #expect(hasher.count == 11)
    }

    @Test(arguments: [
        "sha256",
        "sha256:abc",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
    ])
    func invalidDigestRejected(text: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: text) }
        do {
            _ = try Digest(parsing: text)
        } catch {
            #expect("\(error)".contains(text))
        }
    }
}
