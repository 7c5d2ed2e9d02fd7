import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SandboxBase

/// `serve --previews`: which branches get a preview, for how long, and how many at most. Pure.
package struct PreviewSettings: Sendable, Equatable {
    /// Patterns as given: `feature/*` for every served checkout, `ID:feature/*` for one (git forbids `:` in branch names).
    package var patterns: [String] = []
    /// Seconds a preview lives after its last push or "Keep".
    package var ttl = 3 * 86_400
    /// Previews per checkout at most; a push past it is refused.
    package var limit = 8
    /// Bytes that must stay free where previews are made; a push below it is refused.
    package var diskFloor: Int64 = 2 << 30
    /// The sandbox a preview runs, for a checkout with several (`--preview-sandbox`); nil: the only one.
    package var sandbox: String? = nil

    package init(patterns: [String] = [], ttl: Int = 3 * 86_400, limit: Int = 8, diskFloor: Int64 = 2 << 30, sandbox: String? = nil) {
        self.patterns = patterns; self.ttl = ttl; self.limit = limit; self.diskFloor = diskFloor; self.sandbox = sandbox
    }

    package var isEnabled: Bool { !patterns.isEmpty }

    /// How long before the end `preview-expiring` is sent: a quarter of the time to live, at most an hour.
    package var warnBefore: Int { min(3600, max(1, ttl / 4)) }

    /// Whether `branch` of the served checkout `checkout` gets a preview. `*` matches any text, `/` included.
    package func matches(_ branch: String, checkout: String) -> Bool {
        patterns.contains { given in
            var pattern = Substring(given)
            if let colon = given.firstIndex(of: ":") {
                guard given[..<colon] == checkout else { return false }
                pattern = given[given.index(after: colon)...]
            }
            return fnmatch(String(pattern), branch, 0) == 0
        }
    }

    /// Checks each pattern once, at start: one message naming the bad one.
    package static func validate(patterns: [String]) throws(SandboxError) {
        for pattern in patterns {
            let branch = pattern.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? ""
            guard !branch.isEmpty, branch.count <= 200, pattern.filter({ $0 == ":" }).count <= 1,
                  !branch.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\\" }) else {
                throw SandboxError(.badRequest, "'\(pattern.prefix(60))' is not a branch pattern",
                                   fix: "use a pattern like 'feature/*' (or 'CHECKOUT:feature/*' for one served checkout)")
            }
        }
    }

    /// `512M`, `2G`, `10G` or plain bytes.
    package static func parseSize(_ text: String) throws(SandboxError) -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var number = Substring(text.uppercased()), unit: Int64 = 1
        if number.hasSuffix("B") { number = number.dropLast() }
        if let last = number.last, let u = units[last] { number = number.dropLast(); unit = u }
        guard number.count <= 12, number.allSatisfy(\.isNumber), let value = Int64(number) else {
            throw SandboxError(.badRequest, "'\(text.prefix(40))' is not a size", fix: "use bytes or K, M, G, T, like 2G")
        }
        return value * unit
    }
}

/// Names a preview takes from its branch. Pure.
package enum PreviewNames {
    /// The instance name of `branch`'s preview: the branch in the letters an instance name allows, and when it had to be
    /// changed (a `/`, upper case, a long name), eight hex digits of its hash after it, so a branch always gets the same
    /// name and two branches share one only if one is named after the other's hashed name (the keeper refuses that one).
    package static func instance(for branch: String) -> String {
        var slug = ""
        for scalar in branch.unicodeScalars {
            let c = Character(scalar)
            let kept: Character = c.isASCII && (c.isLowercase || c.isNumber || c == "_") ? c : "-"
            if kept == "-" && (slug.isEmpty || slug.hasSuffix("-")) { continue }
            slug.append(kept)
        }
        while slug.hasSuffix("-") || slug.hasSuffix("_") { slug.removeLast() }
        while let first = slug.first, !(first.isLetter || first.isNumber) { slug.removeFirst() }
        if slug == branch && slug.count <= 32 && slug != "golden" { return slug }
        let hash = Formatting.hex(SHA256.hash(data: Data(branch.utf8))).prefix(8)
        var short = String(slug.prefix(30))
        while short.hasSuffix("-") || short.hasSuffix("_") { short.removeLast() }
        return short.isEmpty ? "b-\(hash)" : "\(short)-\(hash)"
    }

    /// The id the API names a preview by, and the served checkout id of its worktree: `<checkout>~<instance>`.
    package static func id(checkout: String, instance: String) -> String { "\(checkout)~\(instance)" }

    /// Where previews of `checkout` live: a folder beside it, `<name>.previews/<instance>`.
    package static func folder(of checkout: URL) -> URL {
        checkout.deletingLastPathComponent().appendingPathComponent("\(checkout.lastPathComponent).previews")
    }
}
