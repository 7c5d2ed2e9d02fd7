#if Server
import Crypto
#endif
import Foundation
import SandboxBase

/// One event about an instance, as it is posted: the command's `--json` result (or error) object with `event`,
/// `checkout`, `commit` and `at` set, its bytes signed once, when the command made it.
package struct NotifyEvent: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, CaseIterable, Codable {
        case up
        case upFailed = "up-failed"
        case reset
        case snapshotRestored = "snapshot-restored"
        case down
        case destroy
        /// `serve` left a checkout alone instead of following its branch (local changes, diverged, no upstream).
        case followRefused = "follow-refused"
        /// A preview of a branch (`serve --previews`) answers, or could not be made or updated, or was removed.
        case previewReady = "preview-ready"
        case previewFailed = "preview-failed"
        case previewRemoved = "preview-removed"
        /// A preview's time to live runs out soon: "Keep" on the page, or a push, extends it.
        case previewExpiring = "preview-expiring"
        /// A push to a matching branch made no preview: the limit of previews, or the disk floor, was reached.
        case previewRefused = "preview-refused"
    }

    /// Unique per event, sent as `X-Sandbox-Delivery`: a receiver that got an event twice (a retry after a
    /// timeout it answered too late) can tell.
    package var id: String
    package var kind: Kind
    package var instance: String
    /// The exact bytes posted.
    package var body: String
    /// `X-Sandbox-Signature-256`, when a secret is set.
    package var signature: String?
    /// Where it goes and how hard delivery tries, as configured for the command that made it.
    package var urls: [String]
    package var timeout: Double
    package var attempts: Int

    package init(id: String = UUID().uuidString.lowercased(), kind: Kind, instance: String, object: [String: Any],
                checkout: String, commit: String?, at: Date, config: NotifyConfig) {
        self.id = id
        self.kind = kind
        self.instance = instance
        let data = Self.body(object, kind: kind, checkout: checkout, commit: commit, at: at)
        body = String(decoding: data, as: UTF8.self)
        signature = config.secret.map { Self.signature(of: data, secret: $0) }
        urls = config.urls
        timeout = config.timeout
        attempts = config.attempts
    }

    /// The object with `event` (replacing the `--json` object's own), `checkout` (its path), `commit` (left out
    /// outside git, as in `status --json`) and `at` (UTC, milliseconds); keys sorted, like every `--json` line.
    package static func body(_ object: [String: Any], kind: Kind, checkout: String, commit: String?, at: Date) -> Data {
        var object = object
        object["event"] = kind.rawValue
        object["checkout"] = checkout
        object["commit"] = commit
        object["at"] = timestamp(at)
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-23T09:41:07.250Z`.
    package static func timestamp(_ date: Date) -> String {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        format.timeZone = TimeZone(identifier: "UTC")
        return format.string(from: date)
    }

    /// `sha256=` and the lower-case hex HMAC-SHA256 of `body` keyed with `secret`, as GitHub signs its webhooks.
    package static func signature(of body: Data, secret: String) -> String {
        #if Server
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Formatting.hex(mac)
        #else
        return "sha256=" + Formatting.hex(PlainSHA256.hmac(key: Array(secret.utf8), message: body))
        #endif
    }

    /// The request's headers, in the order sent.
    package var headers: [(String, String)] {
        var headers = [("Content-Type", "application/json"), ("User-Agent", "sandbox-notify"),
                       ("X-Sandbox-Event", kind.rawValue), ("X-Sandbox-Delivery", id)]
        if let signature { headers.append(("X-Sandbox-Signature-256", signature)) }
        return headers
    }
}
