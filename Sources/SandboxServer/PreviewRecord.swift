import Foundation

/// One preview, as `serve` keeps it in `.sandbox/previews.json` of its checkout.
package struct PreviewRecord: Codable, Sendable, Equatable {
    package var branch: String
    /// The remote the branch was pushed to: only that remote's listing can say the branch is gone.
    package var remote = "origin"
    package var instance: String
    package var worktree: String
    /// The commit it runs (its last `up` that succeeded).
    package var commit: String?
    /// The commit being brought up, or the one that failed.
    package var wanted: String
    /// creating, updating, ready, failed, removing (a removal started and not finished: finished at the next run)
    package var state: String
    package var reason: String?
    package var created: Date
    package var updated: Date?
    package var expires: Date
    package var warned = false

    enum CodingKeys: String, CodingKey { case branch, remote, instance, worktree, commit, wanted, state, reason, created, updated, expires, warned }
    package init(branch: String, remote: String, instance: String, worktree: String, wanted: String, state: String, created: Date, expires: Date) {
        self.branch = branch; self.remote = remote; self.instance = instance; self.worktree = worktree; self.wanted = wanted
        self.state = state; self.created = created; self.expires = expires
    }
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        branch = try c.decode(String.self, forKey: .branch); remote = try c.decodeIfPresent(String.self, forKey: .remote) ?? "origin"
        instance = try c.decode(String.self, forKey: .instance); worktree = try c.decode(String.self, forKey: .worktree)
        commit = try c.decodeIfPresent(String.self, forKey: .commit); wanted = try c.decode(String.self, forKey: .wanted)
        state = try c.decode(String.self, forKey: .state); reason = try c.decodeIfPresent(String.self, forKey: .reason)
        created = try c.decode(Date.self, forKey: .created); updated = try c.decodeIfPresent(Date.self, forKey: .updated)
        expires = try c.decode(Date.self, forKey: .expires); warned = try c.decodeIfPresent(Bool.self, forKey: .warned) ?? false
    }
    /// Whether nothing is under way on it: what expiry, Remove and Keep may act on.
    var isSettled: Bool { state == "ready" || state == "failed" }
}

extension PreviewRecord {
    static func file(_ checkout: ServedCheckout) -> URL {
        checkout.root.appendingPathComponent(".sandbox").appendingPathComponent("previews.json")
    }

    /// What a previous `serve` knew; a run it was killed in is marked failed, so the next push or poll retries it.
    static func load(_ checkout: ServedCheckout) -> [PreviewRecord] {
        guard let data = try? Data(contentsOf: file(checkout)) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard var list = try? decoder.decode([PreviewRecord].self, from: data) else {
            // Damaged: set aside (never written over), so what it named can still be found and removed by hand.
            let aside = file(checkout).appendingPathExtension("damaged-\(Int(Date().timeIntervalSince1970))")
            try? FileManager.default.moveItem(at: file(checkout), to: aside)
            let text = "sandbox serve: \(file(checkout).path) could not be read; set aside as \(aside.lastPathComponent). "
                + "Previews it named are not known to this server: remove their worktrees beside the checkout by hand.\n"
            FileHandle.standardError.write(Data(text.utf8))
            return []
        }
        for index in list.indices where ["creating", "updating"].contains(list[index].state) {
            list[index].reason = "serve stopped while it was \(list[index].state)"
            list[index].state = "failed"
        }
        return list
    }

    static func save(_ list: [PreviewRecord], _ checkout: ServedCheckout) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(list) else { return }
        let file = file(checkout)
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
