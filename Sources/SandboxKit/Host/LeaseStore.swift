import Foundation
import SandboxBase

/// A lending service's copies at a glance.
package struct LeaseCounts: Codable, Sendable, Equatable {
    package var ready: Int
    package var lent: Int
    /// When the longest-held lease began; nil with none lent.
    package var oldest: Date?
}

/// The bookkeeping of one service's lent databases, `.sandbox/<instance>/leases/<service>/`: a small JSON file per copy
/// in the folder of its state. A copy moves between the folders by rename(2), which is atomic, under the store's lock,
/// so it is always in exactly one state and two processes never take the same ready copy; what a killed command left
/// is where the next one knows what to do with it:
///
///     making/   being made: never handed out; found by the next refill, it is dropped (it may be half made)
///     ready/    made from the seeded state `seed` names; a lease takes the oldest
///     leased/   lent until `expires` (renewals move it); past it, or with no time written, it is reclaimed
///     dropping/ given back, reclaimed or stale: dropped on the server, then its file deleted
///
/// Files are written without a flush: a killed process loses nothing the page cache holds; a power cut may lose a state
/// change, which the next refill's sweep of the server (every `lease_…` name no file knows is dropped) makes good.
package struct LeaseStore: Sendable {
    package let folder: URL

    package enum State: String, CaseIterable, Sendable { case making, ready, leased, dropping }

    /// One copy: the database `copy` (also its login's name) made from `database` in the seeded state `seed`.
    package struct Entry: Codable, Sendable, Equatable {
        package var id: String
        package var database: String
        package var password: String
        package var seed: String
        package var made: Date
        package var leased: Date?
        package var expires: Date?

        /// The copy's database and login: `lease_<id>`.
        package var copy: String { LeaseStore.prefix + id }

        package init(id: String, database: String, password: String, seed: String, made: Date) {
            self.id = id
            self.database = database
            self.password = password
            self.seed = seed
            self.made = made
        }
    }

    /// What every copy, login and template on a lease server is named with.
    package static let prefix = "lease_"

    package init(folder: URL) { self.folder = folder }

    /// Held while a state changes; never across work on the server.
    package func lock() async throws(SandboxError) -> FileLock {
        try await FileLock.acquire(folder.appendingPathComponent(".lock")) {}
    }

    /// Held by whoever makes copies (a refill, or a lease that found none ready), so `making/` entries found by the
    /// holder are always leftovers of a killed process.
    package func makerLock(wait: Bool) async throws(SandboxError) -> FileLock? {
        let url = folder.appendingPathComponent(".maker.lock")
        return wait ? try await FileLock.acquire(url) {} : try FileLock.attempt(url)
    }

    // MARK: - Reading

    package func entries(_ state: State) -> [Entry] {
        let dir = folder.appendingPathComponent(state.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let id = String(name.dropLast(5))
            guard Self.isID(id) else { return nil }
            return read(dir.appendingPathComponent(name)) ?? Self.unreadable(id)
        }.sorted { ($0.made, $0.id) < ($1.made, $1.id) }
    }

    package func entry(_ id: String, in state: State) -> Entry? {
        guard Self.isID(id) else { return nil }
        let url = file(id, state)
        guard FileSystem.exists(url) else { return nil }
        return read(url) ?? Self.unreadable(id)
    }

    /// Every copy the store knows, in any state: what a sweep of the server keeps.
    package func known() -> Set<String> {
        Set(State.allCases.flatMap { entries($0).map(\.copy) })
    }

    /// How many copies are ready and lent, and when the oldest lease began: what status and the page show.
    package func counts() -> LeaseCounts {
        let lent = entries(.leased)
        return LeaseCounts(ready: count(.ready), lent: lent.count, oldest: lent.compactMap(\.leased).min())
    }

    package func count(_ state: State, database: String? = nil, seed: String? = nil) -> Int {
        entries(state).filter { e in (database == nil || e.database == database) && (seed == nil || e.seed == seed) }.count
    }

    // MARK: - Changing (each under `lock()`, taken by the caller)

    package func add(_ entry: Entry, to state: State) throws(SandboxError) {
        try FileSystem.writeJSON(entry, to: file(entry.id, state), mode: 0o600, durable: false)
    }

    /// Moves a copy's file; false when it is not in `from` (another process moved it first).
    @discardableResult
    package func move(_ id: String, from: State, to: State) throws(SandboxError) -> Bool {
        try FileSystem.ensureDirectory(folder.appendingPathComponent(to.rawValue), mode: 0o700)
        if rename(file(id, from).path, file(id, to).path) == 0 { return true }
        if errno == ENOENT { return false }
        throw FileSystem.error(errno, folder, doing: "move lease \(id) in")
    }

    package func remove(_ id: String, from state: State) {
        unlink(file(id, state).path)
    }

    /// The oldest ready copy of `database` in the seeded state `seed`, moved to `leased/` until `now + ttl`. Copies of
    /// another state are passed over, never dropped here: the seed a waiting lease read may already be the older one,
    /// and retiring is the refill's (under the maker lock, with the seed read then).
    package func take(database: String, seed: String, now: Date, ttl: Int) throws(SandboxError) -> Entry? {
        for var entry in entries(.ready) where entry.database == database {
            guard entry.seed == seed else { continue }
            guard try move(entry.id, from: .ready, to: .leased) else { continue }
            // Killed between the move and this write, the copy is leased with no time and reclaimed by the next refill:
            // nobody was told of it.
            entry.leased = now
            entry.expires = now.addingTimeInterval(TimeInterval(ttl))
            try add(entry, to: .leased)
            return entry
        }
        return nil
    }

    /// A lent copy's time, from `now`; nil when it is not lent (given back, reclaimed, or never).
    package func renew(_ id: String, now: Date, ttl: Int) throws(SandboxError) -> Entry? {
        // An unreadable file names a copy to drop, not a lease to hand back (with no database and no password).
        guard var entry = entry(id, in: .leased), !entry.database.isEmpty else { return nil }
        entry.expires = now.addingTimeInterval(TimeInterval(ttl))
        try add(entry, to: .leased)
        return entry
    }

    /// Lent copies whose time ran out (or was never written), moved to `dropping/`. Only those: a reclaim touches no
    /// other lease.
    package func reclaim(now: Date) throws(SandboxError) -> [Entry] {
        var out: [Entry] = []
        for entry in entries(.leased) where (entry.expires ?? .distantPast) <= now {
            if try move(entry.id, from: .leased, to: .dropping) { out.append(entry) }
        }
        return out
    }

    /// Ready copies not made from `seed` for their database, moved to `dropping/`.
    package func retire(staleFor seeds: [String: String]) throws(SandboxError) -> [Entry] {
        var out: [Entry] = []
        for entry in entries(.ready) where seeds[entry.database] != entry.seed {
            if try move(entry.id, from: .ready, to: .dropping) { out.append(entry) }
        }
        return out
    }

    /// Copies a killed maker left half made, moved to `dropping/`. Only the holder of `makerLock` may ask.
    package func leftovers() throws(SandboxError) -> [Entry] {
        var out: [Entry] = []
        for entry in entries(.making) where try move(entry.id, from: .making, to: .dropping) { out.append(entry) }
        return out
    }

    // MARK: - Files

    func file(_ id: String, _ state: State) -> URL {
        folder.appendingPathComponent(state.rawValue).appendingPathComponent(id + ".json")
    }

    private func read(_ url: URL) -> Entry? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Entry.self, from: data)
    }

    /// A file that cannot be read still names its copy: enough to drop it, never to lend it (its seed matches nothing).
    private static func unreadable(_ id: String) -> Entry {
        Entry(id: id, database: "", password: "", seed: "", made: .distantPast)
    }

    /// Whether a name on a lease server is one this store makes: a copy (`lease_` and an id) or a template
    /// (`lease_tpl_` and 16 hex digits). A sweep drops nothing else, so a seeded database or role named `lease_app` stays.
    package static func isMade(_ name: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let rest = String(name.dropFirst(prefix.count))
        return isID(rest) || (rest.hasPrefix("tpl_") && isID(String(rest.dropFirst(4))))
    }

    /// Ids are 16 lower-case hex digits: the only names this store makes or accepts (a request's id is checked here).
    package static func isID(_ id: String) -> Bool {
        id.utf8.count == 16 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A fresh id and password from the system's random source.
    package static func newID() -> String { hex(8) }
    package static func newPassword() -> String { hex(16) }

    private static func hex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return Formatting.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) })
    }
}
