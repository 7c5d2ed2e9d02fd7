import Foundation
import Synchronization
import Testing
@testable import SandboxBase
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxOutput
@testable import SandboxRecipes
@testable import SandboxKit

/// The core's operations end to end (observe, plan, execute: images, golden data, copies, containers, steps,
/// snapshots, removal) against the fake engine, in milliseconds. What the engine answers and how the core
/// takes each failure; the real engine's behaviour is the integration tests'.
@Suite struct CoreOnFakeEngineTests {
    static let recipe = """
    sandbox: shop
    owner: acme
    services:
      pg:
        image: postgresql-15
        setup:
          - create-database: {name: shop}
          - sql: {database: shop, file: shop/schema.sql}
        update:
          - sql: {database: shop, file: shop/migrations/}
    env:
      DATABASE_URL: postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/shop
    """

    /// A checkout with the recipe, a fake engine that has the base image, and the core on both.
    struct Rig {
        let fixture: RecipeFixture
        let engine = FakeEngine(images: ["debian:bookworm", "debian:trixie"])
        let records = Records()

        final class Records: Sendable {
            private let store = Mutex<[ProgressRecord]>([])
            func append(_ record: ProgressRecord) { store.withLock { $0.append(record) } }
            func clear() { store.withLock { $0 = [] } }
            var all: [ProgressRecord] { store.withLock { $0 } }
        }

        init() throws {
            fixture = try RecipeFixture(["Recipes/shop.yml": CoreOnFakeEngineTests.recipe,
                                         "Recipes/shop/schema.sql": "create table items (id int);\n",
                                         "Recipes/shop/migrations/0001.sql": "alter table items add column name text;\n"])
        }

        var core: Core {
            let engine = engine
            return Core(checkout: fixture.root.path, executable: "/bin/false", engine: { Docker(transport: engine) })
        }

        var reporter: RecordingReporter {
            let records = records
            return RecordingReporter { record in records.append(record) }
        }

        var started: [String] { records.all.filter { $0.event == "start" }.compactMap(\.action) }
        var messages: [String] { records.all.filter { $0.event == "message" }.compactMap(\.message) }
        func clear() { records.clear() }

        func layout(_ instance: String = "dev") -> InstanceLayout { InstanceLayout(checkout: fixture.checkout, instance: instance) }
        func dataDir(_ instance: String = "dev") -> URL { layout(instance).dataDir("pg") }

        func up(_ instance: String = "dev") async throws -> UpResult {
            try await core.up(Core.Target(instance: instance), reporter: reporter)
        }

        /// The error the operation threw, as a `SandboxError`.
        func failure(_ body: () async throws -> Void) async -> SandboxError? {
            do { try await body(); return nil } catch { return error as? SandboxError }
        }
    }

    @Test func aFreshUpBuildsInitialisesSetsUpCopiesStartsAndWritesTheEnvThenTheNextIsANoOp() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        let result = try await rig.up()
        #expect(result.changed && result.services.map(\.state) == ["running"])
        #expect(rig.started.map { $0.split(separator: " ")[0] } == [
            "WriteState", "Build", "EnsureNetwork", "InitGolden", "CopyGoldenData", "WriteServiceEnv", "CreateContainer", "WaitReady",
            "SetCredentials", "WriteState", "WriteEnv",
        ])
        // The golden copy: init in a throwaway container, then setup and the shared update against a private server.
        #expect(rig.engine.scripts.first?.contains("initdb -D /data/main") == true)
        #expect(rig.engine.scripts.contains { $0.contains("CREATE DATABASE") || $0.contains("createdb") || $0.contains("create database") })
        #expect(FileManager.default.fileExists(atPath: rig.dataDir().appendingPathComponent("initialised").path))
        #expect(DataStamp.read(from: rig.dataDir())?.updates.values.sorted() == ["sql database=shop shop/migrations/0001.sql"])
        // Only the instance's service container is left; the golden copy's helpers are gone.
        let containers = rig.engine.containers
        #expect(containers.map(\.name) == [rig.layout().containerName(sandbox: "shop", service: "pg")])
        #expect(containers.first?.labels[Label.instance] == "dev" && containers.first?.state == "running")
        let env = try String(contentsOf: rig.layout().envFile, encoding: .utf8)
        #expect(env.contains("DATABASE_URL=") && env.contains("@127.0.0.1:\(result.services[0].port ?? 0)/shop"))

        rig.clear()
        let again = try await rig.up()
        #expect(!again.changed && rig.started.allSatisfy { $0 == "Nothing" }, "\(rig.started)")
        #expect((again.dockerCalls ?? 99) <= 2, "the no-op path: one docker ps, one docker image inspect")
    }

    @Test func aSecondInstanceCopiesTheGoldenDataWithoutInitialisingAgain() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let inits = rig.engine.scripts.filter { $0.contains("initdb") }.count
        rig.clear()
        _ = try await rig.up("ci-2")
        #expect(rig.engine.scripts.filter { $0.contains("initdb") }.count == inits)
        #expect(rig.started.map { $0.split(separator: " ")[0] } == [
            "WriteState", "EnsureNetwork", "CopyGoldenData", "WriteServiceEnv", "CreateContainer", "WaitReady", "SetCredentials", "WriteState",
            "WriteEnv",
        ])
        #expect(rig.engine.containers.count == 2)
    }

    /// The instance's own password is set by the entry script as the fresh container becomes ready (no `docker exec`);
    /// where the script left no mark (it failed, or the image is older than it), by `docker exec` as before. Either way
    /// the data is stamped with the instance's secret and the script, which holds it, does not stay in the run folder.
    @Test(arguments: [false, true]) func aFreshCopysPasswordIsSetByTheEntryScriptOrElseByExec(onceFails: Bool) async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        if onceFails { rig.engine.failOnceScripts() }
        let before = rig.engine.commands.count
        _ = try await rig.up("ci-2")
        let layout = rig.layout("ci-2"), container = layout.containerName(sandbox: "shop", service: "pg")
        let execs = rig.engine.commands.dropFirst(before).filter { $0.first == "exec" && $0.contains(container) }
        #expect(execs.count == (onceFails ? 1 : 0), "\(execs)")
        let secret = try #require(InstanceSecrets.read(layout).passwords["pg"])
        #expect(rig.engine.scripts.last?.contains("ALTER ROLE") == true && rig.engine.scripts.last?.contains(secret) == true)
        #expect(DataStamp.read(from: rig.dataDir("ci-2"))?.password == secret)
        #expect(!FileManager.default.fileExists(atPath: layout.onceScript("pg").path))
        #expect(!FileManager.default.fileExists(atPath: rig.dataDir("ci-2").appendingPathComponent(".sandbox-once-done").path))
    }

    /// Kept data with another's password and a new image: the container is replaced, the old one set aside. The new one
    /// failing, the old one comes back and serves the data as it was: no password script runs in either, and none is left.
    @Test func aReplacementThatFailsLeavesThePasswordAsStamped() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        var stamp = try #require(DataStamp.read(from: rig.dataDir()))
        stamp.password = "golden-pw"
        try stamp.write(to: rig.dataDir())
        try rig.fixture.write("Images/postgresql-15.yml", StockRecipes.files.first { $0.name == "postgresql-15.yml" }!.text
            .replacingOccurrences(of: "  - apt: [postgresql-15, postgresql-client-15]", with: "  - apt: [postgresql-15, postgresql-client-15, less]"))
        rig.engine.fail("run", status: 125, stderr: "docker: Error response from daemon: OCI runtime create failed: unable to start")
        rig.clear()
        let before = rig.engine.scripts.count
        #expect(await rig.failure { _ = try await rig.up() } != nil)
        #expect(rig.started.contains("RestoreContainer"), "\(rig.started)")
        #expect(!rig.engine.scripts.dropFirst(before).contains { $0.contains("ALTER ROLE") })
        #expect(DataStamp.read(from: rig.dataDir())?.password == "golden-pw")
        #expect(!FileManager.default.fileExists(atPath: rig.layout().onceScript("pg").path))
    }

    @Test func aPortTakenBetweenPlanAndStartIsPlannedAgain() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        _ = try await rig.core.down(Core.Target(instance: "dev"), reporter: rig.reporter)
        rig.clear()
        rig.engine.fail("run", status: 125, stderr: "docker: Error response from daemon: driver failed programming external connectivity: "
                            + "Bind for 127.0.0.1:20001 failed: port is already allocated.")
        let result = try await rig.up()
        #expect(result.services.map(\.state) == ["running"])
        #expect(rig.messages.contains { $0.contains("was taken by another program since planning; planning again") }, "\(rig.messages)")
        #expect(rig.started.filter { $0.hasPrefix("CreateContainer") }.count == 2)
    }

    @Test func aFailingSetupStepKeepsNoGoldenCopyAndTheNextUpStartsOver() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        rig.engine.fail("exec", stderr: "ERROR:  syntax error at or near \"tabel\"")
        let error = await rig.failure { _ = try await rig.up() }
        #expect(error?.code == .stepFailed, "\(String(describing: error))")
        let golden = try FileManager.default.contentsOfDirectory(atPath: rig.layout().goldenRoot.path).filter { !$0.hasSuffix(".lock") }
        #expect(golden.isEmpty, "no golden copy and no staging folder is left: \(golden)")
        #expect(rig.engine.containers.isEmpty, "the private setup server is removed")
        #expect(try await rig.up().services.map(\.state) == ["running"])
    }

    @Test func theEngineGoingAwayIsEngineUnreachableAndAFullDiskIsDiskFull() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        rig.engine.fail("ps", times: 5, stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
        #expect(await rig.failure { _ = try await rig.up() }?.code == .engineUnreachable)
        rig.engine.fail("ps", times: 0, stderr: "")
        let rig2 = try Rig()
        defer { rig2.fixture.remove() }
        rig2.engine.fail("build", stderr: "write /var/lib/docker/tmp/x: no space left on device")
        #expect(await rig2.failure { _ = try await rig2.up() }?.code == .diskFull)
    }

    @Test func downToleratesAContainerRemovedByHandOrBeingRemovedAndLeavesOtherCheckoutsAlone() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        var stranger = try #require(rig.engine.containers.first)
        stranger.name = "someone-elses"
        stranger.id = "ffff"
        stranger.labels[Label.checkout] = "another-checkout"
        stranger.ports = ""
        rig.engine.add(stranger)
        rig.engine.fail("rm", stderr: "Error response from daemon: removal of container abc is already in progress")
        let removed = try await rig.core.down(Core.Target(instance: "dev"), reporter: rig.reporter)
        #expect(removed.removed == ["pg"])
        #expect(rig.engine.containers.map(\.name).contains("someone-elses"))
        // Data is kept; a later up starts the same data again.
        #expect(DataStamp.read(from: rig.dataDir()) != nil)
        rig.engine.fail("rm", stderr: "Error response from daemon: No such container: sbx")
        _ = try await rig.core.down(Core.Target(instance: "dev"), reporter: rig.reporter)
        rig.engine.fail("rm", stderr: "Error response from daemon: permission denied")
        _ = try await rig.up()
        #expect(await rig.failure { _ = try await rig.core.down(Core.Target(instance: "dev"), reporter: rig.reporter) }?.code == .dockerFailed)
    }

    @Test func resetGivesFreshDataAndRestoreBringsBackASnapshot() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let target = Core.Target(instance: "dev")
        let scratch = rig.dataDir().appendingPathComponent("scratch-table")
        FileManager.default.createFile(atPath: scratch.path, contents: Data("42".utf8))
        let saved = try await rig.core.saveSnapshot(target, name: "with-scratch", reporter: rig.reporter)
        #expect(saved.services == ["pg"])
        rig.clear()
        _ = try await rig.core.reset(target, reporter: rig.reporter)
        #expect(!FileManager.default.fileExists(atPath: scratch.path))
        #expect(rig.started.contains { $0.hasPrefix("SwitchData") })
        _ = try await rig.core.restore(target, snapshot: "with-scratch", reporter: rig.reporter)
        #expect(FileManager.default.fileExists(atPath: scratch.path))
        #expect(try rig.core.snapshots(target).snapshots.map(\.name) == ["with-scratch"])
        _ = try await rig.core.deleteSnapshot(target, name: "with-scratch", reporter: rig.reporter)
        #expect(try rig.core.snapshots(target).snapshots.isEmpty)
        #expect(await rig.failure { _ = try await rig.core.restore(target, snapshot: "with-scratch", reporter: rig.reporter) }?.code == .noSuchSnapshot)
    }

    @Test func destroyWithDeleteDataRemovesContainersAndData() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let result = try await rig.core.destroy(Core.Target(instance: "dev"), deleteData: true, reporter: rig.reporter)
        #expect(result.removed == ["pg"] && result.deletedData == true)
        #expect(rig.engine.containers.isEmpty && !FileManager.default.fileExists(atPath: rig.dataDir().path))
        #expect(rig.engine.networks.isEmpty, "the instance's network goes with it")
    }

    @Test func aFirstUpThatFailedAfterMakingTheNetworkLeavesItToDestroyWhichRemovesIt() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        rig.engine.fail("run", times: 10, stderr: "docker: Error response from daemon: OCI runtime create failed: exec format error")
        _ = await rig.failure { _ = try await rig.up() }
        #expect(rig.engine.containers.isEmpty && rig.engine.networks.count == 1, "\(rig.engine.networks)")
        let plan = try await rig.core.plan(Core.Target(instance: "dev"), .destroy(deleteData: true))
        #expect(plan.text.contains("RemoveNetwork") || plan.text.contains("network"), "\(plan.text)")
        _ = try await rig.core.destroy(Core.Target(instance: "dev"), deleteData: true, reporter: rig.reporter)
        #expect(rig.engine.networks.isEmpty, "no record and no container named it, and it went all the same")
    }

    @Test func anEngineWithNoAddressesLeftForANetworkSaysSoAndHowToFreeSome() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        rig.engine.fail("network create", stderr: "Error response from daemon: could not find an available, non-overlapping IPv4 address pool "
                        + "among the defaults to assign to the network")
        let error = await rig.failure { _ = try await rig.up() }
        #expect(error?.message.contains("no addresses left") == true, "\(String(describing: error))")
        #expect(error?.fix?.contains("default-address-pools") == true && error?.fix?.contains("sandbox destroy") == true)
    }

    @Test func theListAsksTheEngineOnceForEveryInstance() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        for name in ["a", "b", "c"] { _ = try await rig.up(name) }
        let before = rig.engine.commands.count
        let list = try await rig.core.list()
        #expect(list.instances.map(\.instance) == ["a", "b", "c"])
        #expect(list.instances.allSatisfy { $0.services.map(\.state) == ["running"] })
        #expect(rig.engine.commands.count - before == 1, "\(rig.engine.commands.suffix(3))")
    }

    @Test func aNewerVersionInTheRecipeIsAnUpgradeAfterASnapshotAndSwitchedInPlace() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        try rig.fixture.write("Recipes/shop.yml", Self.recipe.replacingOccurrences(of: "postgresql-15", with: "postgresql-17"))
        rig.clear()
        let result = try await rig.up()
        let verbs = rig.started.map { $0.split(separator: " ")[0] }
        #expect(verbs.contains("SaveSnapshot") && verbs.contains("SwitchData") && rig.started.contains("UpgradeData 15->17 dump"), "\(rig.started)")
        #expect(DataStamp.read(from: rig.dataDir())?.version == "17")
        #expect(result.services.first?.image.contains("postgresql-17") == true && rig.engine.containers.count == 1)
        // The dump ran in the old version's private server, the restore in the new one's; both are gone.
        #expect(rig.engine.scripts.contains { $0.contains("pg_dump") } && rig.engine.scripts.contains { $0.contains("psql") })
        #expect(!rig.engine.containers.contains { $0.name.contains("-upgrade-") })
    }

    @Test func aFailedUpgradeGivesTheOldServerBackOnItsUntouchedData() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let before = try FileManager.default.contentsOfDirectory(atPath: rig.dataDir().path).sorted()
        try rig.fixture.write("Recipes/shop.yml", Self.recipe.replacingOccurrences(of: "postgresql-15", with: "postgresql-17"))
        rig.engine.fail("exec", stderr: "pg_dump: error: query failed: server closed the connection unexpectedly")
        let error = await rig.failure { _ = try await rig.up() }
        #expect(error?.code == .upgradeFailed, "\(String(describing: error))")
        #expect(DataStamp.read(from: rig.dataDir())?.version == "15")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rig.dataDir().path).sorted() == before)
        let containers = rig.engine.containers
        #expect(containers.map(\.state) == ["running"] && containers.first?.image.contains("postgresql-15") == true, "\(containers)")
        let left = try FileManager.default.contentsOfDirectory(atPath: rig.layout().root.path).filter { $0.hasPrefix(".") }
        #expect(!left.contains { $0.contains("staging") || $0.contains("upgrade") }, "\(left)")
    }

    /// The engine's words, read once, for every failure the core tells apart.
    @Test func engineFailuresAreReadFromTheEnginesWordsOnce() {
        let cases: [(String, EngineFailure)] = [
            ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", .engineDown),
            ("error during connect: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.41/info\"", .engineDown),
            ("Error response from daemon: No such container: sbx-x", .noSuchContainer),
            ("Error response from daemon: removal of container abc is already in progress", .removalInProgress),
            ("Error: No such image: acme/x:demo", .noSuchImage),
            ("Error: No such object: acme/x:demo", .noSuchImage),
            ("docker: Error response from daemon: Conflict. The container name \"/x\" is already in use by container \"abc\".", .nameInUse),
            ("Bind for 127.0.0.1:20001 failed: port is already allocated", .portTaken),
            ("listen tcp 127.0.0.1:20001: bind: address already in use", .portTaken),
            ("write /var/lib/docker/x: no space left on device", .outOfSpace),
            ("no such manifest: 127.0.0.1:5000/acme/x:h", .noSuchManifest),
            ("something else entirely", .other),
        ]
        for (text, failure) in cases { #expect(EngineFailure(text) == failure, "\(text)") }
        #expect(Docker.Output(status: 0, stderr: "No such container").failure == nil)
    }
}
