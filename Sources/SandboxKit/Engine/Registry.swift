import Foundation
import SandboxBase
import SandboxRecipes

/// A container registry a fleet shares (docs/fleet.md): images by their content hash, and golden data packed as
/// images by its fresh hash, so a worker pulls what matches its recipes instead of building and initialising.
package struct Registry: Sendable, Equatable {
    /// `HOST:PORT`, as docker names it (`127.0.0.1:5000`).
    package var address: String

    package init(_ address: String) throws(SandboxError) {
        let trimmed = address.hasSuffix("/") ? String(address.dropLast()) : address
        let ok = !trimmed.isEmpty && !trimmed.contains("://") && !trimmed.contains(" ")
            && trimmed.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:_[]".contains($0)) }
        guard ok else {
            throw SandboxError(.badRequest, "'\(address)' is not a registry address",
                               fix: "name it as HOST:PORT, like --registry 127.0.0.1:5000 (Scripts/registry-up starts one)")
        }
        self.address = trimmed
    }

    /// `acme/postgresql-15:demo` with content hash H: `REGISTRY/acme/postgresql-15:h-<H's first 16>`.
    package func image(tag: String, hash: String) -> String { "\(address)/\(Self.repository(tag)):h-\(hash.prefix(16))" }

    /// The same image under its readable tag: `REGISTRY/acme/postgresql-15:demo`.
    package func image(tag: String) -> String { "\(address)/\(tag)" }

    /// A service's golden data: `REGISTRY/<owner>/<sandbox>-golden-<service>:f-<fresh hash>-u-<applied update steps>`.
    /// The tag names exactly what the data holds: what init and setup made (the fresh hash), and which update
    /// steps every copy shares were applied to it (a hash of their hashes), so a worker knows before pulling.
    package func golden(owner: String, sandbox: String, service: String, freshHash: String, updates: some Collection<String>) -> String {
        let key = ContentHash.of(data: Data(updates.sorted().joined(separator: "\n").utf8)).prefix(12)
        return "\(address)/\(owner.lowercased())/\(sandbox.lowercased())-golden-\(service.lowercased()):f-\(freshHash.prefix(16))-u-\(key)"
    }

    static func repository(_ tag: String) -> String {
        // The tag is after the last ':' that follows the last '/' (a registry host may carry a port).
        let slash = tag.lastIndex(of: "/") ?? tag.startIndex
        guard let colon = tag[slash...].lastIndex(of: ":") else { return tag }
        return String(tag[..<colon])
    }

    /// What a registry holds of what a command needs, asked once per reference; `unreachable` when it did not answer.
    package struct Contents: Sendable, Equatable {
        package var images: Set<String> = []
        /// Per service, the golden data found: its reference and the update steps (by hash) applied to it.
        package var golden: [String: Golden] = [:]
        package var unreachable: String?

        package struct Golden: Sendable, Equatable {
            package var reference: String
            package var updates: Set<String>

            package init(reference: String, updates: Set<String>) {
                self.reference = reference
                self.updates = updates
            }
        }

        package init(images: Set<String> = [], golden: [String: Golden] = [:], unreachable: String? = nil) {
            self.images = images
            self.golden = golden
            self.unreachable = unreachable
        }
    }

    /// Whether the registry has `reference`: nil when it has not, an error text when it cannot be asked.
    package static func has(_ reference: String, docker: Docker) async -> Result<Bool, RegistryUnreachable> {
        guard let out = try? await docker.run(.inspectManifest(reference), check: false) else {
            return .failure(RegistryUnreachable(reason: "the docker CLI did not run"))
        }
        if out.status == 0 { return .success(true) }
        // A registry without the repository says "not found" in its own words; one that does not answer never does.
        let text = out.stderr + out.stdout
        if out.failure == .noSuchManifest || text.contains("not found") { return .success(false) }
        return .failure(RegistryUnreachable(reason: Docker.tail(text, lines: 1)))
    }

    package struct RegistryUnreachable: Error, Sendable { package var reason: String }
}
