import Crypto
import Foundation
import SandboxBase

/// `POST /hooks/git`: push events from GitHub, Gitea/Forgejo and GitLab, checked against `SANDBOX_HOOK_SECRET`.
enum GitHook {
    /// A push: the branch and the commit it now points at.
    struct Push: Equatable {
        var branch: String
        /// Empty when the branch was deleted.
        var commit: String
        var deleted: Bool { commit.isEmpty }
    }

    /// True when the request proves it knows the secret: an HMAC-SHA256 of the body (`X-Hub-Signature-256:
    /// sha256=<hex>` from GitHub and Gitea, `X-Gitea-Signature: <hex>`), or GitLab's `X-Gitlab-Token` itself.
    static func verify(body: Data, secret: String, hubSignature: String?, giteaSignature: String?, gitlabToken: String?) -> Bool {
        guard !secret.isEmpty else { return false }
        let expected = Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
        if let hub = hubSignature?.trimmingCharacters(in: .whitespaces), hub.lowercased().hasPrefix("sha256="),
           let given = Data(hex: String(hub.dropFirst(7))), equal(given, expected) { return true }
        if let gitea = giteaSignature?.trimmingCharacters(in: .whitespaces), let given = Data(hex: gitea), equal(given, expected) { return true }
        if let token = gitlabToken, AccessToken.matches(token, secret) { return true }
        return false
    }

    /// The deliveries taken, the newest `limit` of them: a replay of one is refused.
    actor Deliveries {
        private var seen: [String] = []
        private var known: Set<String> = []
        let limit = 4096

        /// True the first time `id` is offered.
        func first(_ id: String) -> Bool {
            guard known.insert(id).inserted else { return false }
            seen.append(id)
            if seen.count > limit { known.remove(seen.removeFirst()) }
            return true
        }
    }

    /// A delivery's identity when the forge sends none: its body's SHA-256.
    static func digest(_ body: Data) -> String { "sha256:" + Formatting.hex(SHA256.hash(data: body)) }

    /// Compares in time that does not depend on where the bytes differ.
    static func equal(_ a: Data, _ b: Data) -> Bool {
        a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The push in a GitHub, Gitea or GitLab payload (a deleted branch: `after` all zeros, or `deleted`), nil for
    /// anything else (a tag, a ping).
    static func push(from body: Data) -> Push? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let ref = object["ref"] as? String, ref.hasPrefix("refs/heads/"), ref.count > "refs/heads/".count else { return nil }
        let branch = String(ref.dropFirst("refs/heads/".count))
        let commit = (object["after"] as? String) ?? (object["checkout_sha"] as? String) ?? ""
        guard commit.count >= 7, commit.count <= 64, commit.allSatisfy(\.isHexDigit) else { return nil }
        if object["deleted"] as? Bool == true || !commit.contains(where: { $0 != "0" }) { return Push(branch: branch, commit: "") }
        return Push(branch: branch, commit: commit)
    }
}

extension Data {
    /// Bytes from lower- or upper-case hex; nil for anything else.
    init?(hex: String) {
        guard hex.count % 2 == 0, hex.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
