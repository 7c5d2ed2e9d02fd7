#if Server
import Crypto
#endif
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
        return of(data: data)
    }

    package static func of(data: Data) -> String {
        #if Server
        Formatting.hex(SHA256.hash(data: data))
        #else
        Formatting.hex(PlainSHA256.hash(data))
        #endif
    }

    package static func of(file path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        return of(data: data)
    }
}
