import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// The copies one service lends (docs/testing.md): made ahead on its lease server from the seeded state, handed over by
/// one rename in the store, given back or reclaimed, then dropped. What to send the server comes from the image
/// recipe's `service.leases`; the order of things, which makes every step safe to kill, is here:
///
/// - a copy's file is in `making/` before its first statement is sent, and reaches `ready/` only once the copy is whole;
/// - only the holder of the maker lock makes copies, so whatever it finds in `making/` was left by a killed process and
///   is dropped, and so is every `lease_…` name on the server the store does not know (a statement still running when
///   its process was killed);
/// - a lease takes a copy of the current seeded state only: a copy made before an update step is dropped instead.
///
/// An actor: requests to the server go through one session, in order, however many leases arrive at once.
package actor LeasePool {
    package let service: ResolvedService
    package let server: ResolvedService
    package let store: LeaseStore
    let docker: Docker
    let layout: InstanceLayout
    let sandbox: String
    let now: @Sendable () -> Date
    let newID: @Sendable () -> String
    let newPassword: @Sendable () -> String
    /// Copies are made through one session and dropped through another, so a drop never waits for a copy being made.
    private var sessions: [Lane: any EngineSession] = [:]
    enum Lane: Hashable { case make, drop }
    private var prepared: [String: Prepared] = [:]
    private var requests = 0
    /// Requests sent and not answered yet, and whether the pool was closed meanwhile: its sessions then end after the
    /// last answer (a lender replaced while another task still leases through it finishes that lease).
    private var inFlight = 0
    private var closed = false
    private var swept = false

    /// What `prepare` made for one database in one seeded state: the template copies come from, and what it printed.
    struct Prepared: Codable, Sendable {
        var seed: String
        var template: String
        var text: String
    }

    /// What a refill did.
    package struct Refill: Sendable, Equatable {
        package var made = 0
        package var dropped = 0
        package var reclaimed = 0
        /// Another process was refilling; nothing was done.
        package var busy = false
    }

    package init(docker: Docker, layout: InstanceLayout, sandbox: String, service: ResolvedService, server: ResolvedService,
                 now: @escaping @Sendable () -> Date = { Date() }, newID: @escaping @Sendable () -> String = LeaseStore.newID,
                 newPassword: @escaping @Sendable () -> String = LeaseStore.newPassword) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.service = service
        self.server = server
        self.store = LeaseStore(folder: layout.leases(service.name))
        self.now = now
        self.newID = newID
        self.newPassword = newPassword
    }

    var spec: LeaseSpec { server.spec.leases! }
    package var settings: LeaseSettings { service.leases! }
    package var container: String { layout.containerName(sandbox: sandbox, service: server.name) }

    /// The seeded state copies are made from now: the golden copy the lease server started from and the update steps
    /// it has had since, as its data stamp records them.
    package func seed() throws(SandboxError) -> String {
        guard let stamp = DataStamp.read(from: layout.dataDir(server.name)) else {
            throw SandboxError(.notRunning, "service \(service.name) of instance '\(layout.instance)' has no lease server yet",
                               fix: "run `\(Messages.up(layout.instance))`: it starts one (\(server.name))")
        }
        return Self.seed(stamp)
    }

    package static func seed(_ stamp: DataStamp) -> String { ContentHash.of([stamp.freshHash] + stamp.updates.keys.sorted()) }

    // MARK: - Lending

    /// The oldest ready copy of `database`, lent for `ttl` seconds; when none is ready, one made now (`made` is then true).
    package func lease(database: String, ttl: Int) async throws(SandboxError) -> (entry: LeaseStore.Entry, made: Bool) {
        // While another holds the maker lock (a refill making copies), each copy it finishes is taken as it becomes
        // ready: a lease never waits for a whole refill. The seed is read each time round: an update step may finish
        // meanwhile, and then only copies of the new state will do.
        var pause = 2
        for _ in 0..<6000 {
            let seed = try seed()
            if let entry = try await take(database, seed: seed, ttl: ttl) { return (entry, false) }
            if let maker = try await store.makerLock(wait: false) {
                defer { withExtendedLifetime(maker) {} }
                if let entry = try await take(database, seed: seed, ttl: ttl) { return (entry, false) }
                return (try await make(database, seed: seed, lentFor: ttl), true)
            }
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
        throw SandboxError(.leaseFailed, "no copy of \(database) became ready on \(server.name) within two minutes",
                           fix: "see `sandbox logs \(server.name)`; `sandbox db ls` shows the pool")
    }

    private func take(_ database: String, seed: String, ttl: Int) async throws(SandboxError) -> LeaseStore.Entry? {
        let lock = try await store.lock()
        defer { withExtendedLifetime(lock) {} }
        try checkLimit()
        return try store.take(database: database, seed: seed, now: now(), ttl: ttl)
    }

    /// Refuses a lease while the service has `max-lent` copies out whose time has not run out (counted under the store
    /// lock, so concurrent leases never pass it together). Expired ones do not count: the refill after this lease
    /// reclaims them, whether or not `serve` runs.
    private func checkLimit() throws(SandboxError) {
        let now = now()
        let lent = store.entries(.leased).filter { ($0.expires ?? .distantPast) > now }.count
        guard lent >= settings.maxLent else { return }
        let flag = layout.instance == "dev" ? "" : " --instance \(layout.instance)"
        throw SandboxError(.tooManyLeases, "service \(service.name) of instance '\(layout.instance)' has \(lent) copies lent, "
                               + "and lends at most \(settings.maxLent) at once ('max-lent' in its 'leases')",
                           fix: "give copies back when a test is done (`sandbox db release ID\(flag)`, or DELETE …/databases/ID); "
                               + "`sandbox db ls\(flag)` lists what is lent and until when. Or raise 'max-lent' in the recipe and `sandbox up`")
    }

    /// Gives a copy back: it is dropped now. Nil when no such copy is lent (given back already, reclaimed, or never lent).
    package func release(_ id: String) async throws(SandboxError) -> LeaseStore.Entry? {
        let entry: LeaseStore.Entry?
        do {
            let lock = try await store.lock()
            defer { withExtendedLifetime(lock) {} }
            guard let found = store.entry(id, in: .leased), try store.move(id, from: .leased, to: .dropping) else { return nil }
            entry = found
        }
        if let entry { _ = await drop([entry]) }
        return entry
    }

    /// A lent copy's time, from now; nil when it is not lent.
    package func renew(_ id: String, ttl: Int) async throws(SandboxError) -> LeaseStore.Entry? {
        let lock = try await store.lock()
        defer { withExtendedLifetime(lock) {} }
        return try store.renew(id, now: now(), ttl: ttl)
    }

    // MARK: - Keeping the pool

    /// Drops what a killed process left, what ran out of time and what an update step made stale, then makes copies until
    /// every database has `pool` ready. With `wait` false it does nothing while another process refills.
    package func refill(wait: Bool = false) async throws(SandboxError) -> Refill {
        guard let maker = try await store.makerLock(wait: wait) else { return Refill(busy: true) }
        defer { withExtendedLifetime(maker) {} }
        let seed = try seed()
        var report = Refill()
        var gone: [LeaseStore.Entry] = []
        do {
            let lock = try await store.lock()
            defer { withExtendedLifetime(lock) {} }
            gone += try store.leftovers()
            let reclaimed = try store.reclaim(now: now())
            report.reclaimed = reclaimed.count
            gone += reclaimed
            gone += try store.retire(staleFor: Dictionary(uniqueKeysWithValues: settings.databases.map { ($0, seed) }))
        }
        let queued = store.entries(.dropping).filter { e in !gone.contains { $0.id == e.id } }
        report.dropped = await drop(gone + queued)
        for database in settings.databases {
            while store.count(.ready, database: database, seed: seed) < settings.pool {
                _ = try await make(database, seed: seed, lentFor: nil)
                report.made += 1
            }
        }
        if !swept || report.made > 0 || report.dropped > 0 {
            try await sweep()
            swept = true
        }
        return report
    }

    /// Makes one copy of `database`: ready, or lent straight away for `lentFor` seconds. Only under the maker lock.
    private func make(_ database: String, seed: String, lentFor ttl: Int?) async throws(SandboxError) -> LeaseStore.Entry {
        let template = try await prepare(database, seed: seed)
        var entry = LeaseStore.Entry(id: newID(), database: database, password: newPassword(), seed: seed, made: now())
        try store.add(entry, to: .making)
        let sql = try render(spec.copy, ["copy": entry.copy, "login": entry.copy, "secret": entry.password, "database": database,
                                         "template": template.template, "prepared": template.text])
        do {
            _ = try await send(sql)
        } catch {
            if (try? store.move(entry.id, from: .making, to: .dropping)) == true { _ = await drop([entry]) }
            throw SandboxError(.leaseFailed, "making a copy of \(database) on \(server.name) failed: \(error.message)",
                               fix: "see `sandbox logs \(server.name)`; a changed 'leases' section of the image recipe is checked by `sandbox check`",
                               detail: error.detail)
        }
        guard let ttl else {
            try store.move(entry.id, from: .making, to: .ready)
            return entry
        }
        let lock = try await store.lock()
        defer { withExtendedLifetime(lock) {} }
        // Others may have taken ready copies up to the limit while this one was made: it then waits in the pool.
        do throws(SandboxError) { try checkLimit() } catch {
            try store.move(entry.id, from: .making, to: .ready)
            throw error
        }
        try store.move(entry.id, from: .making, to: .leased)
        entry.leased = now()
        entry.expires = entry.leased!.addingTimeInterval(TimeInterval(ttl))
        try store.add(entry, to: .leased)
        return entry
    }

    /// What copies of `database` in the seeded state `seed` are made from, made once per state (and kept in the store,
    /// so another process finds it).
    private func prepare(_ database: String, seed: String) async throws(SandboxError) -> Prepared {
        if let p = prepared[database], p.seed == seed { return p }
        let file = templateFile(database)
        if let data = try? Data(contentsOf: file), let p = try? JSONDecoder().decode(Prepared.self, from: data), p.seed == seed {
            prepared[database] = p
            return p
        }
        let template = LeaseStore.prefix + "tpl_" + ContentHash.of([database, seed]).prefix(16)
        let values = ["database": database, "template": template]
        let text: String
        switch spec.prepare {
        case let .sql(t):
            text = try await send(try render(t, values)).joined(separator: "\n")
        case let .run(t):
            let command = try Rendering.command(t, spec: server.spec, stamp: DataStamp.read(from: layout.dataDir(server.name)), params: values)
            let out = try await docker.run(.exec(container, user: server.spec.runAs, script: command), check: false)
            guard out.status == 0 else {
                throw SandboxError(.leaseFailed, "preparing copies of \(database) on \(server.name) failed (exit \(out.status))",
                                   fix: "see the output below; a changed 'leases' section of the image recipe is checked by `sandbox check`",
                                   detail: Docker.tail(out.stderr.isEmpty ? out.stdout : out.stderr, lines: 12))
            }
            text = out.stdout
        }
        let p = Prepared(seed: seed, template: template, text: text)
        try FileSystem.writeJSON(p, to: file, mode: 0o600, durable: false)
        prepared[database] = p
        return p
    }

    private func templateFile(_ database: String) -> URL {
        store.folder.appendingPathComponent("templates").appendingPathComponent(ContentHash.of(database).prefix(16) + ".json")
    }

    /// Drops copies (the statements for several in one request; one by one when that fails), deleting the file of each
    /// one gone. What fails stays in `dropping/` for the next refill. Returns how many were dropped.
    private func drop(_ entries: [LeaseStore.Entry]) async -> Int {
        guard !entries.isEmpty else { return 0 }
        func sql(_ e: LeaseStore.Entry) -> String? { try? render(spec.drop, ["copy": e.copy, "login": e.copy]) }
        if let batch = Optional(entries.compactMap(sql).joined(separator: "\n")), (try? await send(batch, lane: .drop)) != nil {
            for e in entries { store.remove(e.id, from: .dropping) }
            return entries.count
        }
        var dropped = 0
        for e in entries {
            guard let text = sql(e), (try? await send(text, lane: .drop)) != nil else { continue }
            store.remove(e.id, from: .dropping)
            dropped += 1
        }
        return dropped
    }

    /// Drops every `lease_…` database and login on the server that no file of the store names and no current template
    /// is: what a statement still running when its process was killed made after the next one cleaned up.
    private func sweep() async throws(SandboxError) {
        let names = try await send(try render(spec.list, [:])).map { $0.trimmingCharacters(in: .whitespaces) }
        let templates = settings.databases.compactMap { db -> String? in
            prepared[db]?.template ?? (try? Data(contentsOf: templateFile(db))).flatMap { try? JSONDecoder().decode(Prepared.self, from: $0) }?.template
        }
        let keep = store.known().union(templates)
        let orphans = Set(names.filter { LeaseStore.isMade($0) && !keep.contains($0) })
        for name in orphans.sorted() {
            guard let text = try? render(spec.drop, ["copy": name, "login": name]) else { continue }
            _ = try? await send(text, lane: .drop)
        }
    }

    // MARK: - The session

    /// Sends SQL through one of the pool's sessions, started when there is none, or when the last one ended (an error in
    /// an earlier request ends it: the engine's client stops at the first error). A request the ended session never
    /// received is sent once more through a new one.
    private func send(_ sql: String, lane: Lane = .make) async throws(SandboxError) -> [String] {
        inFlight += 1
        let answer: Result<[String], SandboxError>
        do throws(SandboxError) {
            do {
                answer = .success(try await sendOnce(sql, lane: lane))
            } catch where error.replan {
                sessions[lane] = nil
                answer = .success(try await sendOnce(sql, lane: lane))
            }
        } catch {
            let stopped = (error.detail ?? "").contains("is not running") || (error.detail ?? "").contains("No such container")
            answer = .failure(SandboxError(stopped ? .notRunning : .leaseFailed, stopped ? "the lease server \(server.name) is not running" : error.message,
                                           fix: stopped ? "start it: `\(Messages.up(layout.instance))`" : "see `sandbox logs \(server.name)`",
                                           detail: error.detail))
        }
        inFlight -= 1
        if closed, inFlight == 0 {
            let open = Array(sessions.values)
            sessions = [:]
            // The answer does not wait for the sessions to go.
            Task { for session in open { await session.close() } }
        }
        return try answer.get()
    }

    private func sendOnce(_ sql: String, lane: Lane) async throws(SandboxError) -> [String] {
        let session: any EngineSession
        if let open = sessions[lane], open.isOpen { session = open } else {
            let stamp = DataStamp.read(from: layout.dataDir(server.name))
            let command = try Rendering.command(spec.session, spec: server.spec, stamp: stamp)
            session = docker.session(.session(container, user: server.spec.runAs, script: "exec " + command))
            sessions[lane] = session
        }
        requests += 1
        let marker = "sandbox-lease-\(requests)-done"
        let markerText = try render(spec.marker, ["marker": marker])
        return try await session.send(sql, markerText: markerText, marker: marker, timeout: .seconds(60))
    }

    /// Ends the sessions of a pool that is no longer used: at once when no request is waiting for an answer, else after
    /// the last answer. A request sent later still gets one (through a session started for it and ended after it).
    package func close() async {
        closed = true
        if inFlight == 0 { await endSessions() }
    }

    private func endSessions() async {
        let open = sessions
        sessions = [:]
        for session in open.values { await session.close() }
    }

    private func render(_ template: Template, _ values: [String: String]) throws(SandboxError) -> String {
        do { return try template.render(sql: server.spec.sql) { values[$0] } } catch {
            throw SandboxError(.leaseFailed, "'{\(error.name)}' has no value in the image recipe's leases: \(error.template)",
                               fix: "run `sandbox check`: the 'leases' section of \(server.imageTag)'s recipe names what it may use")
        }
    }
}
