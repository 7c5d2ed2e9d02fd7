import Crypto
import Foundation
import SandboxBase

/// SHA-256 over canonical data: JSON with sorted keys, so key order,
/// whitespace and comments in recipes never change a hash.
package enum ContentHash {
    package static func of(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain Codable recipe data cannot fail; fall back to a stable marker if it ever does.
        let data = (try? encoder.encode(value)) ?? Data("unencodable".utf8)
        return hex(SHA256.hash(data: data))
    }

    package static func of(data: Data) -> String { hex(SHA256.hash(data: data)) }

    package static func of(file path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        return of(data: data)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        Formatting.hex(digest)
    }
}
