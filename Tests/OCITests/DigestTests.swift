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

    /// The "abc" vectors of FIPS 180-2, fed in two pieces.
    @Test(arguments: [
        (Digest.Algorithm.sha256, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            Digest.Algorithm.sha384,
            "sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        ),
        (
            Digest.Algorithm.sha512,
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ),
    ])
    func hasherComputesEachAlgorithm(algorithm: Digest.Algorithm, expected: String) throws {
        var hasher = DigestHasher(algorithm)
        hasher.update(Data("a".utf8))
        hasher.update(Data("bc".utf8))
        let digest = hasher.finalize()
        #expect(digest.description == expected)
        #expect(try Digest(parsing: expected) == digest)
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
