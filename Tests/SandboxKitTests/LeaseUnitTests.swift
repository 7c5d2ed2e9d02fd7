import Foundation
import SandboxBase
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxOperations
@testable import SandboxKit

/// Leases without a server: the store's states and what a killed process leaves in them, what recipes may say, how a
/// copy is written out, and the core lending on the fake engine. Dates are given, never read from a clock.
@Suite struct LeaseUnitTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func entry(_ n: Int, database: String = "app", seed: String = "s1", at offset: TimeInterval = 0) -> LeaseStore.Entry {
        LeaseStore.Entry(id: Formatting.hex(UInt64(n), width: 16), database: database, password: "pw\(n)", seed: seed, made: t0.addingTimeInterval(offset))
    }

    /// The fake engine's rig with the shop recipe's pg lending `pool` copies.
    static func lendingRig(pool: Int, maxLent: Int? = nil) throws -> CoreOnFakeEngineTests.Rig {
        let migrations = "      - sql: {database: shop, file: shop/migrations/}\n"
        let rig = try CoreOnFakeEngineTests.Rig()
        let leases = "    leases: {pool: \(pool)\(maxLent.map { ", max-lent: \($0)" } ?? "")}\n"
        try rig.fixture.write("Recipes/shop.yml", CoreOnFakeEngineTests.recipe.replacingOccurrences(of: migrations, with: migrations + leases))
        return rig
    }

    @Test func theStoreLendsTheOldestCopyOfTheCurrentStateOnceAndReclaimsOnlyWhatRanOut() throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        let store = LeaseStore(folder: fixture.root.appendingPathComponent("leases/pg"))
        for (n, offset) in [(1, 20.0), (2, 10.0), (3, 30.0)] { try store.add(Self.entry(n, at: offset), to: .ready) }
        try store.add(Self.entry(4, seed: "old", at: 0), to: .ready)
        try store.add(Self.entry(5, database: "other", at: 5), to: .ready)

        // The oldest of the current state; the stale one is passed over (never lent), left for the refill to retire.
        let first = try #require(try store.take(database: "app", seed: "s1", now: Self.t0, ttl: 60))
        #expect(first.id == Self.entry(2).id && first.expires == Self.t0.addingTimeInterval(60))
        #expect(store.entries(.dropping).isEmpty && store.entries(.ready).contains { $0.id == Self.entry(4).id })
        #expect(store.count(.ready, database: "app", seed: "s1") == 2 && store.count(.ready, database: "other") == 1)
        #expect(try store.retire(staleFor: ["app": "s1", "other": "s1"]).map(\.id) == [Self.entry(4).id])
        let second = try #require(try store.take(database: "app", seed: "s1", now: Self.t0.addingTimeInterval(1), ttl: 600))
        #expect(second.id == Self.entry(1).id)

        // A renewal moves only its own time; a reclaim takes only what ran out.
        #expect(try store.renew(first.id, now: Self.t0.addingTimeInterval(50), ttl: 60)?.expires == Self.t0.addingTimeInterval(110))
        #expect(try store.renew(Self.entry(9).id, now: Self.t0, ttl: 60) == nil)
        #expect(try store.reclaim(now: Self.t0.addingTimeInterval(100)).isEmpty)
        #expect(try store.reclaim(now: Self.t0.addingTimeInterval(110)).map(\.id) == [first.id])
        #expect(store.entries(.leased).map(\.id) == [second.id])

        // Given back twice: the second move finds nothing.
        #expect(try store.move(second.id, from: .leased, to: .dropping))
        #expect(try !store.move(second.id, from: .leased, to: .dropping))
        #expect(store.known() == Set([1, 2, 3, 4, 5].map { LeaseStore.prefix + Self.entry($0).id }))
    }

    @Test func whatAKilledProcessLeftIsDroppedAndNeverLent() throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        let store = LeaseStore(folder: fixture.root.appendingPathComponent("leases/pg"))
        // Killed while making a copy: it may be half made.
        try store.add(Self.entry(1), to: .making)
        // Killed between taking a copy and writing its time: nobody was told of it.
        try store.add(Self.entry(2), to: .leased)
        // A file that cannot be read still names its copy.
        try FileManager.default.createDirectory(at: store.folder.appendingPathComponent("ready"), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: store.folder.appendingPathComponent("ready/\(Self.entry(3).id).json"))
        // Names that are no lease's are never read as one.
        try Data("{}".utf8).write(to: store.folder.appendingPathComponent("ready/..%2f..%2fetc.json"))

        #expect(try store.take(database: "app", seed: "s1", now: Self.t0, ttl: 60) == nil, "the unreadable copy is never lent")
        #expect(try store.leftovers().map(\.id) == [Self.entry(1).id])
        #expect(try store.reclaim(now: Self.t0).map(\.id) == [Self.entry(2).id])
        #expect(try store.retire(staleFor: ["app": "s1"]).map(\.id) == [Self.entry(3).id])
        #expect(Set(store.entries(.dropping).map(\.id)) == Set([1, 2, 3].map { Self.entry($0).id }))
        #expect(!LeaseStore.isID("../../x") && !LeaseStore.isID("ABCDEF0123456789") && LeaseStore.isID("abcdef0123456789"))
        #expect(store.entry("../ready/x", in: .ready) == nil)
    }

    @Test func manyTakersAtOnceNeverShareACopy() async throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        let folder = fixture.root.appendingPathComponent("leases/pg")
        for n in 1...20 { try LeaseStore(folder: folder).add(Self.entry(n, at: TimeInterval(n)), to: .ready) }
        let taken = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    let store = LeaseStore(folder: folder)
                    let lock = try await store.lock()
                    defer { withExtendedLifetime(lock) {} }
                    return try store.take(database: "app", seed: "s1", now: Self.t0, ttl: 60)?.id
                }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(taken.count == 20 && Set(taken).count == 20)
    }

    @Test func recipesSayWhatIsLentAndRefuseWhatCannotBe() throws {
        func recipe(_ leases: String, image: String = "postgresql-15") -> String {
            """
            sandbox: shop
            owner: acme
            services:
              pg:
                image: \(image)
                setup:
                  - create-database: {name: shop}
                  - create-database: {name: audit}
                leases: \(leases)
              cache:
                image: redis-7
            """
        }
        func resolve(_ text: String) throws -> ResolvedSandbox {
            let fixture = try RecipeFixture(["Recipes/shop.yml": text])
            defer { fixture.remove() }
            return try fixture.resolve()
        }
        func check(_ text: String) throws -> String {
            let fixture = try RecipeFixture(["Recipes/shop.yml": text])
            defer { fixture.remove() }
            return try fixture.check()
        }
        let lent = try resolve(recipe("{}"))
        #expect(lent.services.map(\.name) == ["pg", "pg.leases", "cache"])
        #expect(lent.service("pg")?.leases == LeaseSettings(databases: ["shop", "audit"], pool: 4, ttl: 600))
        let server = try #require(lent.service("pg.leases"))
        #expect(server.lendsFor == "pg" && server.dependsOn == ["pg"] && server.env.isEmpty && server.leases == nil && !server.holdsInstanceData)
        #expect(server.freshHash == lent.service("pg")?.freshHash, "it starts from the same golden copy")
        #expect(try resolve(recipe("")).service("pg")?.leases?.databases == ["shop", "audit"], "an empty 'leases:' lends with the defaults")
        #expect(try resolve(recipe("{databases: [audit], pool: 2, ttl: 90s}")).service("pg")?.leases == LeaseSettings(databases: ["audit"], pool: 2, ttl: 90))

        #expect(try check(recipe("{ttl: 5s}")).contains("'ttl' is how long a lease lasts unless renewed, from 10s to 7d"))
        #expect(try check(recipe("{pool: 0}")).contains("'pool'"))
        #expect(try check(recipe("{max-lent: 0}")).contains("'max-lent'"))
        #expect(try resolve(recipe("{max-lent: 7}")).service("pg")?.leases?.maxLent == 7)
        #expect(try check(recipe("{databases: [lease_x]}")).contains("'lease_x' cannot be lent"))
        #expect(try check(recipe("{databases: [shop, shop]}")).contains("'shop' is listed twice"))
        #expect(try check(recipe("{size: 3}")).contains("size"))
        #expect(try check(recipe("{}", image: "redis-7")).contains("image recipe 'redis-7' does not say how its engine lends databases"))
    }

    @Test func aCopyIsWrittenOutInTheRecipesOwnFormsWithItsNameLoginAndServer() throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("Recipes"))
        try FileManager.default.copyItem(at: StockRecipeTests.root.appendingPathComponent("Recipes"), to: fixture.root.appendingPathComponent("Recipes"))
        try fixture.write("Images/bookmarker.yml", try String(contentsOf: StockRecipeTests.root.appendingPathComponent("Images/bookmarker.yml"), encoding: .utf8))
        let demo = try fixture.resolve("demo")
        let pg = try #require(demo.service("pg")), server = try #require(demo.service("pg.leases"))
        let forms = LeaseForms(lender: pg, server: server, port: 21048, sandbox: demo, instance: "dev")
        var entry = Self.entry(7, database: "bookmarker")
        entry.leased = Self.t0
        let (url, env) = forms.render(entry)
        let name = entry.copy
        #expect(url == "postgresql://\(name):pw7@127.0.0.1:21048/\(name)")
        #expect(env == ["DATABASE_URL": "postgresql://\(name):pw7@127.0.0.1:21048/\(name)",
                        "DATABASE_JDBC_URL": "jdbc:postgresql://127.0.0.1:21048/\(name)?user=\(name)&password=pw7"],
                "only the variables that name pg alone: not BOOKMARKER_URL, not the instance's")
        let maria = LeaseForms(lender: try #require(demo.service("maria")), server: try #require(demo.service("maria.leases")), port: 3307,
                               sandbox: demo, instance: "dev")
        let copy = Self.entry(8, database: "analytics")
        #expect(maria.render(copy).env["ANALYTICS_GO_DSN"] == "\(copy.copy):pw8@tcp(127.0.0.1:3307)/\(copy.copy)")
        // Only whole words of the text: a longer name, or one inside a reference, stays.
        let template = try Template.parse("x://{pg.host}/bookmarker?db=bookmarkers&d2=my_bookmarker&bookmarker").get()
        #expect(try LeaseForms.replacing("bookmarker", with: "lease_1", in: template).render { _ in "h" }
                == "x://h/lease_1?db=bookmarkers&d2=my_bookmarker&lease_1")
    }

    @Test func upStartsALeaseServerAndFillsItsPoolResetLeavesItAndAMigrationMakesThePoolAnew() async throws {
        let rig = try Self.lendingRig(pool: 2)
        defer { rig.fixture.remove() }
        let result = try await rig.up()
        #expect(result.services.map(\.service) == ["pg", "pg.leases"])
        let names = rig.started.map { String($0.split(separator: " ")[0]) }
        #expect(Array(names.suffix(8)) == ["CopyGoldenData", "WriteServiceEnv", "CreateContainer", "WaitReady", "SetCredentials", "FillLeasePool",
                                           "WriteState", "WriteEnv"], "\(names)")
        #expect(names.filter { $0 == "InitGolden" }.count == 1, "one golden copy for both")
        let layout = rig.layout()
        let store = LeaseStore(folder: layout.leases("pg"))
        #expect(store.count(.ready) == 2 && rig.engine.sent.filter { $0.contains("CREATE DATABASE \"lease_") }.count >= 2)
        #expect(rig.engine.sent.first { $0.contains("CREATE DATABASE") }?.contains("sandbox_lease_owner") == true, "the template is prepared first")

        // A lease is a hand-over: no statement is sent for it while a copy is ready.
        let sentBefore = rig.engine.sent.count
        let lease = try await rig.core.lease(Core.Target(instance: "dev"), service: "pg", database: nil, ttl: 120)
        #expect(lease.database == "shop" && lease.name == "lease_" + lease.id && lease.user == lease.name && lease.port == result.services[1].port)
        #expect(lease.expires.timeIntervalSince(lease.leased) == 120)
        #expect(rig.engine.sent.count == sentBefore && store.count(.ready) == 1 && store.count(.leased) == 1)
        #expect(await rig.failure { _ = try await rig.core.lease(Core.Target(instance: "dev"), service: "pg", database: "nope", ttl: nil) }?.code == .noLeases)
        #expect(await rig.failure { _ = try await rig.core.lease(Core.Target(instance: "dev"), service: "pg", database: nil, ttl: 5) }?.code == .badRequest)
        #expect(try await rig.core.renew(Core.Target(instance: "dev"), service: nil, id: lease.id, ttl: 300).expires > lease.expires)
        let released = try await rig.core.release(Core.Target(instance: "dev"), service: nil, id: lease.id)
        #expect(released.service == "pg" && rig.engine.sent.last?.contains("DROP DATABASE IF EXISTS \"\(lease.name)\"") == true)
        #expect(await rig.failure { _ = try await rig.core.release(Core.Target(instance: "dev"), service: nil, id: lease.id) }?.code == .noSuchLease)
        #expect(await rig.failure { _ = try await rig.core.release(Core.Target(instance: "dev"), service: "pg", id: "../../etc") }?.code == .noSuchLease)

        // Nothing changed: nothing to do. A reset and a snapshot leave the lease server alone.
        rig.clear()
        #expect(try await !rig.up().changed)
        let reset = try await rig.core.plan(Core.Target(instance: "dev"), .reset)
        #expect(!reset.actions.contains { $0.target == "service:pg.leases" && $0.action != "Nothing" } && reset.actions.contains { $0.target == "service:pg" })
        let snapshot = try await rig.core.plan(Core.Target(instance: "dev"), .saveSnapshot("s"))
        #expect(snapshot.actions.first { $0.action.hasPrefix("SaveSnapshot") }?.arguments == "s services=pg")

        // A new migration runs on both servers; the pool is made anew from the new state, the old copies dropped.
        try rig.fixture.write("Recipes/shop/migrations/0002.sql", "alter table items add column price int;\n")
        let oldReady = Set(store.entries(.ready).map(\.id))
        rig.clear()
        _ = try await rig.up()
        #expect(rig.started.filter { $0.hasPrefix("RunUpdate") }.count == 2 && rig.started.last { $0.hasPrefix("FillLeasePool") } != nil)
        #expect(store.count(.ready) == 2 && oldReady.isDisjoint(with: store.entries(.ready).map(\.id)))
        #expect(store.entries(.dropping).isEmpty)
    }

    /// Eight first requests of one process at once (serve's clients): they share one lender, and a lender replaced while
    /// requests still lease through it (its files changed) answers them before its sessions end.
    @Test func leasesThatArriveTogetherShareOneLenderAndAReplacedOneFinishesItsRequests() async throws {
        let rig = try Self.lendingRig(pool: 1)
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let core = rig.core, stateFile = rig.layout().stateFile
        for round in 0..<4 {
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        // After the first round the instance's record changes under the requests: the lender is made anew.
                        if round > 0, n == 4 { try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: TimeInterval(round))], ofItemAtPath: stateFile.path) }
                        return try await core.lease(Core.Target(instance: "dev"), service: "pg", database: nil, ttl: 60).id
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(ids.count == 8 && Set(ids).count == 8, "round \(round)")
        }
    }

    /// A session that ended between requests (a server restarted, a client stopped at an error) costs a request
    /// nothing: it never received it, so it goes through a new session; the pool still fills and lends.
    @Test func aRequestAnEndedSessionNeverReceivedGoesThroughANewOne() async throws {
        let rig = try Self.lendingRig(pool: 2)
        defer { rig.fixture.remove() }
        rig.engine.endSessions(after: 1)
        _ = try await rig.up()
        let store = LeaseStore(folder: rig.layout().leases("pg"))
        #expect(store.count(.ready) == 2)
        var ids: Set<String> = []
        for _ in 0..<4 { ids.insert(try await rig.core.lease(Core.Target(instance: "dev"), service: "pg", database: nil, ttl: 60).id) }
        #expect(ids.count == 4 && rig.engine.sessionsStarted >= 4, "\(rig.engine.sessionsStarted) sessions")
    }

    /// A suite that never gives its copies back is stopped at `max-lent`, whether the next copy would come from the pool
    /// or be made on the spot; one given back makes room for the next.
    @Test func leasesStopAtMaxLentUntilOneIsGivenBack() async throws {
        let rig = try Self.lendingRig(pool: 2, maxLent: 3)
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let target = Core.Target(instance: "dev"), store = LeaseStore(folder: rig.layout().leases("pg"))
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await rig.core.lease(target, service: "pg", database: nil, ttl: 60).id) }
        #expect(Set(ids).count == 3 && store.count(.leased) == 3)
        _ = try await rig.core.refillLeases(target, service: "pg")
        #expect(store.count(.ready) == 2, "the pool is full: the limit is on what is lent, not on what is made")
        let refused = await rig.failure { _ = try await rig.core.lease(target, service: "pg", database: nil, ttl: 60) }
        #expect(refused?.code == .tooManyLeases && refused?.code.httpStatus == 429)
        #expect(refused?.message.contains("3 copies lent") == true && refused?.fix?.contains("sandbox db release") == true, "\(String(describing: refused))")
        #expect(store.count(.leased) == 3 && store.count(.ready) == 2, "nothing moved")
        _ = try await rig.core.release(target, service: nil, id: ids[0])
        ids.append(try await rig.core.lease(target, service: "pg", database: nil, ttl: 60).id)
        #expect(ids.last != ids[0])
        // Copies whose time ran out do not count, even before a refill reclaims them (the CLI starts one only after a lease).
        for var entry in store.entries(.leased) where entry.id != ids.last {
            entry.expires = Date(timeIntervalSinceNow: -3600)
            try store.add(entry, to: .leased)
        }
        _ = try await rig.core.lease(target, service: "pg", database: nil, ttl: 60)
    }

    @Test func aSweepDropsOnlyNamesTheStoreMakes() async throws {
        #expect(LeaseStore.isMade("lease_0123456789abcdef") && LeaseStore.isMade("lease_tpl_0123456789abcdef"))
        #expect(!LeaseStore.isMade("lease_app") && !LeaseStore.isMade("lease_tpl_app") && !LeaseStore.isMade("lease_0123456789ABCDEF"))
        #expect(!LeaseStore.isMade("lease_0123456789abcdef0") && !LeaseStore.isMade("app") && !LeaseStore.isMade("lease_tpl_"))
    }
}
