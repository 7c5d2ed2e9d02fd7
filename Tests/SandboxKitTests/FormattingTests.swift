import Crypto
import Foundation
import Testing
import SandboxBase
@testable import SandboxRecipes

/// Numbers as text without `String(format:)`, which crashed the unit suite when two threads called it at once.
@Suite struct FormattingTests {
    @Test func hexIsTwoLowerCaseDigitsAByteAndMatchesAKnownDigest() {
        #expect(Formatting.hex([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Formatting.hex([UInt8]()) == "")
        #expect(ContentHash.of(data: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Formatting.hex(UInt64(255), width: 4) == "00ff")
        #expect(Formatting.hex(UInt64(0x1234_5678), width: 4) == "12345678")
        #expect(Formatting.decimal(42, width: 4) == "0042")
    }

    @Test func fixedRoundsToItsPlacesAndKeepsTheSign() {
        #expect(Formatting.fixed(1.25, places: 1) == "1.3")
        #expect(Formatting.fixed(0.04, places: 1) == "0.0")
        #expect(Formatting.fixed(9.96, places: 1) == "10.0")
        #expect(Formatting.fixed(12.5, places: 0) == "13")
        #expect(Formatting.fixed(-0.26, places: 1) == "-0.3")
        #expect(Formatting.fixed(-0.01, places: 1) == "0.0")
        #expect(Formatting.fixed(3.14159, places: 3) == "3.142")
    }

    @Test func formattingFromManyThreadsAtOnceGivesTheSameText() async {
        let expected = ContentHash.of(data: Data("sandbox".utf8))
        let results = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<64 {
                group.addTask {
                    (0..<200).allSatisfy { i in
                        ContentHash.of(data: Data("sandbox".utf8)) == expected && Formatting.fixed(Double(n) + 0.5, places: 1) == "\(n).5"
                            && Formatting.hex(UInt64(i), width: 3).count == 3
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })
    }
}
