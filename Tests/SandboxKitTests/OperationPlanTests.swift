import Foundation
import Testing
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxObserve
@testable import SandboxPlan

/// Golden plans of the commands that replace or remove data: what `sandbox plan --reset` (and the others) print.
@Suite struct OperationPlanTests {
    let fixture: PlannerFixture

    init() throws { fixture = try PlannerFixture() }

    var golden: ObservedState {
        var observed = fixture.converged()
        observed.golden = ["db", "analytics"]
        observed.goldenUpdates = ["db": Set(fixture.db.update.map(\.hash))]
        return observed
    }

    @Test func resetStagesEverythingThenSwitchesAllServicesInOneStep() {
        #expect(fixture.planner.plan(.reset, golden).description == """
        #1 service:db, StageData, reset: a fresh copy of the set-up data, staged while the service still runs
        #2 service:analytics, StageData, reset: a fresh copy of the set-up data, staged while the service still runs
        #3 instance:dev, RemoveContainers analytics,db, reset discards the data they serve, so they are killed, not stopped [after #1 #2]
        #4 instance:dev, SwitchData db,analytics, the staged data replaces the current data of every service in one step [after #3]
        #5 instance:dev, DiscardStaged db,analytics, the reset failed before its switch: the staged copies are deleted, the data stays as it was [if \
        #1 or #2 or #3 or #4 fails]
        #6 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name [after #4]
        #7 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #6]
        #8 service:db, CreateContainer port=20001, container missing [after #7]
        #9 service:db, WaitReady, container created [after #8]
        #10 service:db, SetCredentials, its password is shared with other copies; this instance gets its own [after #9]
        #11 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #6]
        #12 service:analytics, CreateContainer port=20002, container missing [after #11]
        #13 service:analytics, WaitReady, container created [after #12]
        #14 service:analytics, SetCredentials, its password is shared with other copies; this instance gets its own [after #13]
        #15 instance:dev, DeleteReplacedData, the replaced data is no longer needed [after #10 #14, best effort]
        #16 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #15]
        """)
    }

    @Test func resetWithoutGoldenDataMakesItFirstAndRunsOnlyWhatTheGoldenDoesNotApply() {
        var observed = fixture.converged()
        observed.golden = []
        let plan = fixture.planner.plan(.reset, observed)
        #expect(plan.description == """
        #1 service:db, InitGolden updates=2, no set-up data for this recipe yet: init and 2 setup step(s), kept as the golden copy
        #2 service:analytics, InitGolden, no set-up data for this recipe yet: init and 0 setup step(s), kept as the golden copy
        #3 service:db, StageData, reset: a fresh copy of the set-up data, staged while the service still runs [after #1]
        #4 service:analytics, StageData, reset: a fresh copy of the set-up data, staged while the service still runs [after #2]
        #5 instance:dev, RemoveContainers analytics,db, reset discards the data they serve, so they are killed, not stopped [after #3 #4]
        #6 instance:dev, SwitchData db,analytics, the staged data replaces the current data of every service in one step [after #5]
        #7 instance:dev, DiscardStaged db,analytics, the reset failed before its switch: the staged copies are deleted, the data stays as it was [if \
        #3 or #4 or #5 or #6 fails]
        #8 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name [after #6]
        #9 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #8]
        #10 service:db, CreateContainer port=20001, container missing [after #9]
        #11 service:db, WaitReady, container created [after #10]
        #12 service:db, SetCredentials, its password is shared with other copies; this instance gets its own [after #11]
        #13 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #8]
        #14 service:analytics, CreateContainer port=20002, container missing [after #13]
        #15 service:analytics, WaitReady, container created [after #14]
        #16 service:analytics, SetCredentials, its password is shared with other copies; this instance gets its own [after #15]
        #17 instance:dev, DeleteReplacedData, the replaced data is no longer needed [after #12 #16, best effort]
        #18 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #17]
        """)
    }

    @Test func resetOfAStoppedInstanceRemovesNothing() {
        var observed = golden
        observed.containers = [:]
        #expect(!fixture.planner.plan(.reset, observed).description.contains("RemoveContainers"))
    }

    @Test func restoreOfAMissingSnapshotNamesTheOnesThereAre() {
        var observed = golden
        observed.snapshotNames = ["before-demo", "monday"]
        let plan = fixture.planner.plan(.restore(snapshot: "befor-demo"), observed)
        #expect(plan.description == "problem: instance 'dev' has no snapshot 'befor-demo' (did you mean 'before-demo'?); use one of: before-demo, monday")
        #expect(plan.refusal?.code == .noSuchSnapshot)
    }

    @Test func restoreOfAnotherVersionsDataIsRefusedWithTheFix() throws {
        var observed = golden
        guard case var .ready(stamp)? = observed.dataDirs["db"], case let .ready(other)? = observed.dataDirs["analytics"] else {
            Issue.record("no stamps")
            return
        }
        stamp.version = "14"
        observed.snapshot = ObservedSnapshot(name: "old", sandbox: "shop", stamps: ["db": stamp, "analytics": other])
        let plan = fixture.planner.plan(.restore(snapshot: "old"), observed)
        #expect(plan.actions.isEmpty)
        #expect(plan.description == "problem: snapshot 'old' holds postgresql 14 data for db, but the recipe runs postgresql 15; "
                + "restore it with the recipes it was saved with (git checkout), dump the data, and load it into the new version")
    }

    @Test func restoreRunsTheUpdateStepsTheSnapshotLacks() throws {
        var observed = golden
        var stamps: [String: DataStamp] = [:]
        for (name, data) in observed.dataDirs { if case var .ready(stamp) = data { if name == "db" { stamp.updates = [:] }; stamps[name] = stamp } }
        observed.snapshot = ObservedSnapshot(name: "early", sandbox: "shop", stamps: stamps)
        let text = fixture.planner.plan(.restore(snapshot: "early"), observed).description
        #expect(text.contains("#1 service:db, StageData, restore: a copy of snapshot 'early', staged while the service still runs"))
        #expect(text.contains("service:db, RunUpdate sql database=shop migrations/0001.sql, update step is new"))
        #expect(text.contains("service:db, RunUpdate sql database=shop migrations/0002.sql, update step is new"))
        #expect(text.contains("instance:dev, DeleteReplacedData, the replaced data is no longer needed [after #"))
        #expect(text.hasSuffix("instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #15]"))
    }

    @Test func downStopsAndRemovesEveryContainerAndKeepsData() {
        #expect(Planner.removal(.down, layout: fixture.planner.layout, ObservedState(containers: fixture.converged().containers)).description == """
        #1 service:analytics, RemoveContainer, stop and remove; its data stays
        #2 service:db, RemoveContainer, stop and remove; its data stays
        """)
        #expect(Planner.removal(.down, layout: fixture.planner.layout, ObservedState()).description == "#1 instance:dev, Nothing, no containers")
    }

    @Test func destroyWithDeleteDataKillsThenDeletes() {
        #expect(Planner.removal(.destroy(deleteData: true), layout: fixture.layout("ci-3"), ObservedState(containers: fixture.converged().containers)).description == """
        #1 service:analytics, RemoveContainer force, destroy: its data is deleted next, so it is killed
        #2 service:db, RemoveContainer force, destroy: its data is deleted next, so it is killed
        #3 instance:ci-3, DeleteData, --delete-data: data dirs, env file, state and secrets deleted; snapshots kept [after #1 #2]
        """)
        #expect(Planner.removal(.destroy(deleteData: false), layout: fixture.layout("ci-3"), ObservedState()).isNoOp)
    }

    @Test func theInstancesNetworksGoAfterItsContainersAndAloneWhenNoContainerIsLeft() {
        var observed = ObservedState(containers: fixture.converged().containers)
        observed.networks = ["sbx-shop-1234abcd-ci-3"]
        #expect(Planner.removal(.down, layout: fixture.layout("ci-3"), observed).description == """
        #1 service:analytics, RemoveContainer, stop and remove; its data stays
        #2 service:db, RemoveContainer, stop and remove; its data stays
        #3 instance:ci-3, RemoveNetwork, the instance's network, once its containers are gone [after #1 #2, best effort]
        """)
        var bare = ObservedState()
        bare.networks = ["sbx-shop-1234abcd-ci-3"]
        #expect(Planner.removal(.destroy(deleteData: false), layout: fixture.layout("ci-3"), bare).description == """
        #1 instance:ci-3, RemoveNetwork, the instance's network: no container uses it [best effort]
        """)
    }

    @Test func aDamagedStampIsRefusedWithResetAsTheFix() {
        var observed = fixture.converged()
        observed.dataDirs["db"] = .damaged("its stamp .sandbox-data.json cannot be read")
        let plan = fixture.plan(observed)
        #expect(plan.refusal?.code == .dataDirDamaged)
        #expect(plan.problems.map(\.description) == [
            "service db: the data dir .sandbox/dev/db is damaged: its stamp .sandbox-data.json cannot be read; "
                + "`sandbox reset` replaces it with fresh data, `sandbox snapshot restore NAME` with a saved copy; "
                + "or move it away and `sandbox up`",
        ])
        // Reset does not read the damaged data: it replaces it.
        #expect(fixture.planner.plan(.reset, { var o = observed; o.golden = ["db", "analytics"]; return o }()).problems == [])
    }

    @Test func afterAnInterruptedCommandContainersAreMadeAnewNotTrusted() {
        var observed = fixture.converged()
        observed.interrupted = true
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, RemoveContainer, the previous command was interrupted while it worked on the container [after #1]
        #3 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #2]
        #4 service:db, CreateContainer port=20001, the previous command was interrupted while it worked on the container [after #3]
        #5 service:db, WaitReady, container created [after #4]
        #6 service:analytics, RemoveContainer, the previous command was interrupted while it worked on the container [after #1]
        #7 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #6]
        #8 service:analytics, CreateContainer port=20002, the previous command was interrupted while it worked on the container [after #7]
        #9 service:analytics, WaitReady, container created [after #8]
        """)
    }

    @Test func anExistingDataDirThatSharesItsPasswordGetsItsOwn() {
        var observed = fixture.converged()
        observed.sharedCredentials = ["db"]
        #expect(fixture.plan(observed).description == """
        #1 service:db, SetCredentials, its password is shared with other copies; this instance gets its own
        #2 service:analytics, Nothing, up to date
        #3 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #1 #2]
        """)
    }

    @Test func theContainerSpecHoldsNoPasswordAndEverySetting() throws {
        let spec = try fixture.planner.containerSpec(fixture.db, port: 20001)
        let argv = DockerCommand.run(spec.run).arguments
        #expect(argv.contains("--publish") && argv.contains("127.0.0.1:20001:5432"))
        #expect(argv.contains("--init") && argv.contains("--stop-signal") && argv.contains("SIGINT"))
        #expect(argv.contains("--restart") && argv.contains("unless-stopped"), "services come back after an engine restart")
        #expect(argv.contains("dev.sandbox.config-hash=\(spec.configHash)"))
        #expect(argv.contains("SANDBOX_READY=pg_isready -q -h /tmp -p 5432"))
        #expect(spec.configHash == (try fixture.planner.containerSpec(fixture.db, port: 20001)).configHash)
        #expect(spec.configHash != (try fixture.planner.containerSpec(fixture.db, port: 20002)).configHash)
    }
}
