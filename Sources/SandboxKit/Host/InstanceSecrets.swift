import Foundation
import Synchronization
import SandboxBase

/// The passwords an instance gives its services' login users, one per service, kept across reset and restore.
/// Stored in `.sandbox/<instance>/secrets.json` with mode 0600; never passed in an argv or a container's environment.
package struct InstanceSecrets: Sendable, Equatable, Codable {
    package var passwords: [String: String]

    package init(passwords: [String: String] = [:]) { self.passwords = passwords }

    package static func read(_ layout: InstanceLayout) -> InstanceSecrets {
        guard let data = FileManager.default.contents(atPath: layout.secretsFile.path),
              let secrets = try? JSONDecoder().decode(InstanceSecrets.self, from: data) else { return InstanceSecrets() }
        return secrets
    }

    /// Why the secrets file cannot be used, as an error that names it; nil when it is missing or fine.
    package static func damage(_ layout: InstanceLayout) -> SandboxError? {
        guard let reason = StateFile.problem(layout.secretsFile, as: InstanceSecrets.self) else { return nil }
        return Messages.damagedState(layout.checkout.display(layout.secretsFile.path), reason: reason,
                                     holds: "the instance's own passwords, so the URLs you saved",
                                     repair: "give every service a new password (saved URLs with the old ones stop working)",
                                     instance: layout.instance)
    }

    package func write(_ layout: InstanceLayout) throws(SandboxError) { try FileSystem.writeJSON(self, to: layout.secretsFile, mode: 0o600) }

    /// Services converge side by side in one process (other processes are kept out by the instance lock):
    /// their read-modify-write of the file must not interleave, or one service's new password would be lost.
    private static let writing = Mutex(())

    /// The service's password, made (and written, before it is used anywhere) if the instance has none yet.
    package static func password(for service: String, _ layout: InstanceLayout) throws(SandboxError) -> String {
        try writing.withLock { (_: inout ()) throws(SandboxError) -> String in
            // A damaged file is never silently written over: the plan asks for `--repair` first, which deletes it.
            if let damage = damage(layout) { throw damage }
            var secrets = read(layout)
            if let existing = secrets.passwords[service] { return existing }
            let made = generate()
            secrets.passwords[service] = made
            try secrets.write(layout)
            return made
        }
    }

    /// 24 random letters and digits: safe in URLs and shell words without escaping.
    package static func generate() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
