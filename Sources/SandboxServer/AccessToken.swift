import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
import SandboxBase
#endif

/// The bearer token of `sandbox serve`: `$SANDBOX_TOKEN`, or one made once and kept in `.sandbox/serve-token` (0600).
package enum AccessToken {
    package static let fileName = "serve-token"

    /// The token and whether it was just made (so the login link is worth printing loudly).
    package static func load(environment: [String: String], stateFolder: URL) throws(SandboxError) -> (token: String, source: String) {
        if let token = environment["SANDBOX_TOKEN"], !token.isEmpty {
            guard token.count >= 16 else {
                throw SandboxError(.badRequest, "SANDBOX_TOKEN is too short (\(token.count) characters) to guard the API",
                                   fix: "use at least 16 random characters, e.g. SANDBOX_TOKEN=$(openssl rand -hex 24)")
            }
            return (token, "SANDBOX_TOKEN")
        }
        let file = stateFolder.appendingPathComponent(fileName)
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if token.count >= 16 { return (token, file.path) }
        }
        let token = generate()
        do {
            try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
            // Made 0600 from the start: the token is never readable by others, not even for a moment.
            let fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            _ = fchmod(fd, 0o600)
            let bytes = Array((token + "\n").utf8)
            guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else { throw POSIXError(.EIO) }
        } catch {
            throw SandboxError(.dataDirNotWritable, "cannot store the serve token in \(file.path): \(error)",
                               fix: "make .sandbox/ writable, or set SANDBOX_TOKEN")
        }
        return (token, file.path)
    }

    /// 32 random bytes as hex.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return Formatting.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Compares in time that does not depend on where the strings differ.
    package static func matches(_ given: String?, _ token: String) -> Bool {
        guard let given else { return false }
        let a = SHA256.hash(data: Data(given.utf8)), b = SHA256.hash(data: Data(token.utf8))
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
