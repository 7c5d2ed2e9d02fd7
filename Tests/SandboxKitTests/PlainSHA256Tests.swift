import Crypto
import Foundation
import Testing
@testable import SandboxBase

/// The quick build's SHA-256 and HMAC give what swift-crypto gives (the whole build's), byte for byte: the published test
/// vectors, and every length around the block and padding edges, keys shorter and longer than a block. Inputs are made
/// by a fixed formula, not drawn at random.
@Suite struct PlainSHA256Tests {
    @Test func theDigestsAreSwiftCryptosAndThePublishedOnes() {
        #expect(Formatting.hex(PlainSHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Formatting.hex(PlainSHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // RFC 4231, test case 2.
        #expect(Formatting.hex(PlainSHA256.hmac(key: Array("Jefe".utf8), message: Data("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        for length in Array(0...200) + [1_000, 4_095, 4_096, 65_537] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) }
            #expect(PlainSHA256.hash(bytes) == Array(SHA256.hash(data: bytes)), "length \(length)")
            let key = Array(bytes.prefix(length % 150))
            let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key))
            #expect(PlainSHA256.hmac(key: key, message: Data(bytes)) == Array(mac), "length \(length), key \(key.count)")
        }
    }
}
