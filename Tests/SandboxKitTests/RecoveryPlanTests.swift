import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxOutput
@testable import SandboxRecipes
@testable import SandboxKit

/// What a killed command leaves is finished or undone by the next command's plan, as its first actions, and `plan`
/// shows them; failures call the compensations their plan names. On the fake engine, in milliseconds.
@Suite struct RecoveryPlanTests {
    typealias Rig = CoreOnFakeEngineTests.Rig
    let target = Core.Target(instance: "dev")

    @Test func aCommittedSwitchIsFinishedFirstAndPlanSaysSo() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let layout = rig.layout()
        // Killed right after a reset wrote its journal: the staged copy (a marked one) is to go in.
        _ = try await HostCommand.run("/bin/cp", ["-a", layout.dataDir("pg").path, layout.staging("pg").path])
        FileManager.default.createFile(atPath: layout.staging("pg").appendingPathComponent("staged-marker").path, contents: Data())
        try FileSystem.writeAtomically(Data(#"{"services":["pg"]}"#.utf8), to: layout.switchJournal, mode: 0o600)
        let plan = try await rig.core.plan(target)
        #expect(plan.actions.first.map { "\($0.target) \($0.action)" } == "instance:dev FinishSwitch pg", "\(plan.text)")
        rig.clear()
        _ = try await rig.up()
        #expect(rig.started.first == "FinishSwitch pg")
        #expect(FileSystem.exists(layout.dataDir("pg").appendingPathComponent("staged-marker")))
        #expect(try Self.hidden(layout) == [], "no journal, staging or replaced data is left")
        rig.clear()
        _ = try await rig.up()
        #expect(rig.started.allSatisfy { $0 == "Nothing" }, "\(rig.started)")
    }

    @Test func aTemporaryStampIsDiscardedBeforeASnapshotCopiesIt() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let layout = rig.layout()
        let temp = layout.dataDir("pg").appendingPathComponent("..sandbox-data.json.tmp-123-abcd")
        FileManager.default.createFile(atPath: temp.path, contents: Data("{".utf8))
        let plan = try await rig.core.plan(target, .saveSnapshot("s1"))
        #expect(plan.text.hasPrefix("#1 instance:dev, Discard, left by an interrupted command"), "\(plan.text)")
        #expect(plan.actions.first?.arguments == "pg/..sandbox-data.json.tmp-123-abcd")
        _ = try await rig.core.saveSnapshot(target, name: "s1", reporter: rig.reporter)
        #expect(!FileSystem.exists(temp))
        let saved = try FileManager.default.contentsOfDirectory(atPath: layout.snapshots.appendingPathComponent("s1/pg").path)
        #expect(!saved.contains { $0.contains(".tmp-") }, "\(saved)")
    }

    @Test func aFailedSnapshotStartsTheServicesItStoppedAgain() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        // `snapshots` is a file, so the copy cannot be made.
        FileManager.default.createFile(atPath: rig.layout().snapshots.path, contents: Data("in the way".utf8))
        rig.clear()
        let error = await rig.failure { _ = try await rig.core.saveSnapshot(target, name: "s1", reporter: rig.reporter) }
        #expect(error != nil)
        #expect(rig.started == ["StopContainers pg", "SaveSnapshot s1", "StartContainer", "WaitReady"], "\(rig.started)")
        #expect(rig.engine.containers.map(\.state) == ["running"])
    }

    @Test func aResetThatFailsBeforeItsSwitchDeletesWhatItStaged() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let marker = rig.dataDir().appendingPathComponent("my-row")
        FileManager.default.createFile(atPath: marker.path, contents: Data())
        rig.engine.fail("rm", stderr: "Error response from daemon: permission denied")
        rig.clear()
        let error = await rig.failure { _ = try await rig.core.reset(target, reporter: rig.reporter) }
        #expect(error?.code == .dockerFailed, "\(String(describing: error))")
        #expect(rig.started.contains("DiscardStaged pg"), "\(rig.started)")
        #expect(FileSystem.exists(marker), "the data stays as it was")
        #expect(try Self.hidden(rig.layout()) == [])
    }

    @Test func aKilledDestroyIsFinishedByTheNextUpAsPlanned() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        _ = try await rig.core.down(target, reporter: rig.reporter)
        // Killed after its journal: the data is still there, half deleted.
        try FileSystem.writeAtomically(Data(), to: rig.layout().deletionJournal, mode: 0o600)
        let plan = try await rig.core.plan(target)
        let planned = plan.actions.map { "\($0.target) \($0.action)" }
        #expect(planned.prefix(2) == ["instance:dev FinishDeletion", "instance:dev WriteState"], "\(plan.text)")
        #expect(planned.contains("service:pg CopyGoldenData"), "a fresh copy follows: \(plan.text)")
        rig.clear()
        _ = try await rig.up()
        #expect(rig.started == plan.actions.map(\.action), "up does what plan said")
    }

    @Test func aDamagedRecordOrSecretsFileStopsUpNamingItAndRepairKeepsThePortsItCan() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        let first = try await rig.up()
        let port = first.services.first?.port
        let layout = rig.layout()
        try Data("{\"sandbox\": \"sho".utf8).write(to: layout.stateFile)
        let refused = await rig.failure { _ = try await rig.up() }
        #expect(refused?.code == .stateDamaged && refused?.message.hasPrefix(".sandbox/dev/instance.json cannot be read (it is cut short)") == true,
                "\(String(describing: refused))")
        #expect(await rig.failure { _ = try await rig.core.status(target) }?.code == .stateDamaged, "status names it too")
        rig.clear()
        var repair = target
        repair.repair = true
        let repaired = try await rig.core.up(repair, reporter: rig.reporter)
        #expect(rig.started.first == "SetAside instance.json", "\(rig.started)")
        #expect(repaired.services.first?.port == port, "the running service keeps its port")
        #expect(FileSystem.exists(layout.root.appendingPathComponent("instance.json.damaged")))
        // The secrets: refused, then every password given anew with --repair.
        try Data().write(to: layout.secretsFile)
        #expect(await rig.failure { _ = try await rig.up() }?.message.hasPrefix(".sandbox/dev/secrets.json cannot be read (it is empty)") == true)
        let before = DataStamp.read(from: rig.dataDir())?.password
        rig.clear()
        _ = try await rig.core.up(repair, reporter: rig.reporter)
        #expect(rig.started.contains("SetAside secrets.json") && rig.started.contains("SetCredentials"), "\(rig.started)")
        #expect(DataStamp.read(from: rig.dataDir())?.password != before)
    }

    @Test func lsListsWhatHoldsSomethingAndADestroyTakesItsLockFile() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        // A first up that fails before it makes anything leaves nothing to list.
        rig.engine.fail("build", stderr: "E: Unable to locate package postgresql-15")
        #expect(await rig.failure { _ = try await rig.up("broken") } != nil)
        #expect(try await rig.core.list().instances.map(\.instance) == [])
        _ = try await rig.up("keep")
        _ = try await rig.up("gone")
        _ = try await rig.core.saveSnapshot(Core.Target(instance: "keep"), name: "s1", reporter: rig.reporter)
        for name in ["keep", "gone"] { _ = try await rig.core.destroy(Core.Target(instance: name), deleteData: true, reporter: rig.reporter) }
        let listed = try await rig.core.list().instances
        #expect(listed.map(\.instance) == ["keep"] && listed.first?.snapshots == 1, "the instance kept for its snapshot is listed")
        #expect(!FileSystem.exists(rig.layout("gone").lockFile) && FileSystem.exists(rig.layout("keep").lockFile), "lock files go with their instance")
    }

    @Test func aReplacementThatFailsBringsTheRetiredContainerBackAndARestartRestarts() async throws {
        let rig = try Rig()
        defer { rig.fixture.remove() }
        _ = try await rig.up()
        let before = try #require(rig.engine.containers.first)
        // A changed image recipe: the container is set aside, its replacement fails, the old one runs again as it was.
        try rig.fixture.write("Images/postgresql-15.yml", StockRecipes.files.first { $0.name == "postgresql-15.yml" }!.text
            .replacingOccurrences(of: "  - apt: [postgresql-15, postgresql-client-15]", with: "  - apt: [postgresql-15, postgresql-client-15, less]"))
        rig.engine.fail("run", status: 125, stderr: "docker: Error response from daemon: OCI runtime create failed: unable to start")
        rig.clear()
        let error = await rig.failure { _ = try await rig.up() }
        #expect(error?.code == .dockerFailed, "\(String(describing: error))")
        #expect(rig.started.contains("RetireContainer") && rig.started.contains("RestoreContainer"), "\(rig.started)")
        let after = rig.engine.containers
        #expect(after.map(\.id) == [before.id] && after.first?.name == before.name && after.first?.state == "running", "\(after)")
        // Then it works: the new one is ready before the old one is removed.
        rig.clear()
        _ = try await rig.up()
        let order = rig.started.filter { ["RetireContainer", "CreateContainer", "WaitReady", "RemoveContainer"].contains($0.split(separator: " ")[0]) }
        #expect(order.map { $0.split(separator: " ")[0] } == ["RetireContainer", "CreateContainer", "WaitReady", "RemoveContainer"], "\(order)")
        #expect(rig.engine.containers.count == 1 && rig.engine.containers.first?.id != before.id)
        // restart: the environment file written anew, the container restarted and waited for.
        rig.clear()
        _ = try await rig.core.restart(target, services: ["pg"], reporter: rig.reporter)
        #expect(rig.started == ["WriteServiceEnv", "RestartContainer", "WaitReady"], "\(rig.started)")
        #expect(await rig.failure { _ = try await rig.core.restart(target, services: ["nope"], reporter: rig.reporter) }?.code == .unknownService)
    }

    /// Dot-files and folders in the instance's folder (journals, staging, replaced data, temporary files).
    static func hidden(_ layout: InstanceLayout) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: layout.root.path).filter { $0.hasPrefix(".") }.sorted()
    }
}
