import Foundation
import Testing
@testable import SandboxRecipes
@testable import SandboxHost
@testable import SandboxObserve
@testable import SandboxPlan

/// Golden plans: each situation's `plan.description` is compared with exact text, as `sandbox plan` prints it.
@Suite struct PlannerTests {
    let fixture: PlannerFixture

    init() throws { fixture = try PlannerFixture() }

    @Test func freshInstanceBuildsInitialisesAndStarts() {
        let plan = fixture.plan(ObservedState(ports: fixture.ports))
        #expect(plan.description == """
        #1 instance:dev, WriteState, a new instance: recorded as sandbox shop's
        #2 image:debian:bookworm, EnsureBaseImage, base image missing [after #1]
        #3 image:acme/postgresql-15:shop, Build, image missing [after #2]
        #4 image:acme/mariadb-10.11:shop, Build, image missing [after #2]
        #5 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name [after #1]
        #6 service:db, InitGolden updates=2, no set-up data for this recipe yet: init and 2 setup step(s), then 2 update step(s) once for every copy, \
        kept as the golden copy [after #3 #5]
        #7 service:db, CopyGoldenData, data dir missing; a copy of the set-up data [after #6]
        #8 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #7]
        #9 service:db, CreateContainer port=20001, new instance [after #8]
        #10 service:db, WaitReady, container created [after #9]
        #11 service:db, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #10]
        #12 service:analytics, InitGolden, no set-up data for this recipe yet: init and 0 setup step(s), kept as the golden copy [after #4 #5]
        #13 service:analytics, CopyGoldenData, data dir missing; a copy of the set-up data [after #12]
        #14 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #13]
        #15 service:analytics, CreateContainer port=20002, new instance [after #14]
        #16 service:analytics, WaitReady, container created [after #15]
        #17 service:analytics, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #16]
        #18 instance:dev, WriteState, records ports and commit once everything else is done [after #11 #17]
        #19 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #18]
        """)
    }

    @Test func secondInstanceCopiesTheGoldenDataDir() {
        var observed = fixture.converged()
        observed.containers = [:]
        observed.dataDirs = [:]
        observed.golden = ["db", "analytics"]
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, CopyGoldenData, data dir missing; a copy of the set-up data [after #1]
        #3 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #2]
        #4 service:db, CreateContainer port=20001, new instance [after #3]
        #5 service:db, WaitReady, container created [after #4]
        #6 service:db, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #5]
        #7 service:db, RunUpdate sql database=shop migrations/0001.sql, update step is new [after #6]
        #8 service:db, RunUpdate sql database=shop migrations/0002.sql, update step is new [after #7]
        #9 service:analytics, CopyGoldenData, data dir missing; a copy of the set-up data [after #1]
        #10 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #9]
        #11 service:analytics, CreateContainer port=20002, new instance [after #10]
        #12 service:analytics, WaitReady, container created [after #11]
        #13 service:analytics, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #12]
        #14 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #8 #13]
        """)
    }

    @Test func copyOfAGoldenThatAppliedTheFirstMigrationRunsOnlyTheSecond() {
        var observed = fixture.converged()
        observed.containers = [:]
        observed.dataDirs = [:]
        observed.golden = ["db", "analytics"]
        observed.goldenUpdates = ["db": [fixture.db.update[0].hash]]
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, CopyGoldenData, data dir missing; a copy of the set-up data [after #1]
        #3 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #2]
        #4 service:db, CreateContainer port=20001, new instance [after #3]
        #5 service:db, WaitReady, container created [after #4]
        #6 service:db, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #5]
        #7 service:db, RunUpdate sql database=shop migrations/0002.sql, update step is new [after #6]
        #8 service:analytics, CopyGoldenData, data dir missing; a copy of the set-up data [after #1]
        #9 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #8]
        #10 service:analytics, CreateContainer port=20002, new instance [after #9]
        #11 service:analytics, WaitReady, container created [after #10]
        #12 service:analytics, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #11]
        #13 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #7 #12]
        """)
    }

    @Test func goldenUpdatesDoNotApplyToAnExistingDataDir() {
        // The golden copy's updates describe copies made from now on, never a data dir that already exists.
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            stamp.updates[fixture.db.update[1].hash] = nil
            observed.dataDirs["db"] = .ready(stamp)
        }
        observed.goldenUpdates = ["db": Set(fixture.db.update.map(\.hash))]
        #expect(fixture.plan(observed).description == """
        #1 service:db, RunUpdate sql database=shop migrations/0002.sql, update step is new
        #2 service:analytics, Nothing, up to date
        """)
    }

    @Test func nothingChangedIsANoOp() {
        let plan = fixture.plan(fixture.converged())
        #expect(plan.isNoOp)
        #expect(plan.description == """
        #1 service:db, Nothing, up to date
        #2 service:analytics, Nothing, up to date
        """)
    }

    @Test func editedImageRecipeRebuildsAndRecreatesOnlyThatService() {
        var observed = fixture.converged()
        observed.images["acme/postgresql-15:shop"] = .some("old-hash")
        observed.containers["db"]?.configHash = "old-config"
        observed.containers["db"]?.imageHash = "old-hash"
        #expect(fixture.plan(observed).description == """
        #1 image:acme/postgresql-15:shop, Build, image recipe changed
        #2 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #3 service:db, RetireContainer, image recipe changed [after #1 #2]
        #4 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #3]
        #5 service:db, CreateContainer port=20001, image recipe changed [after #4]
        #6 service:db, WaitReady, container created [after #5]
        #7 service:db, RestoreContainer, the new container failed: the one it replaced runs again, as it was [if #5 or #6 fails]
        #8 service:db, RemoveContainer, replaced by the new container, which is ready [after #6]
        #9 service:analytics, Nothing, up to date [after #2]
        """)
    }

    @Test func editedSetupStepIsANoticeNotARerun() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            stamp.setupHash = "older-setup"
            observed.dataDirs["db"] = .ready(stamp)
        }
        let plan = fixture.plan(observed)
        #expect(plan.isNoOp)
        #expect(plan.description == """
        #1 service:db, Notice, setup steps changed
        #2 service:db, Nothing, up to date [after #1]
        #3 service:analytics, Nothing, up to date
        """)
    }

    @Test func newMigrationRunsOnlyThatStep() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            stamp.updates[fixture.db.update[1].hash] = nil
            observed.dataDirs["db"] = .ready(stamp)
        }
        #expect(fixture.plan(observed).description == """
        #1 service:db, RunUpdate sql database=shop migrations/0002.sql, update step is new
        #2 service:analytics, Nothing, up to date
        """)
    }

    @Test func editedMigrationRunsAgainAsChanged() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            let step = fixture.db.update[0]
            stamp.updates[step.hash] = nil
            stamp.updates["previous-content"] = step.title
            observed.dataDirs["db"] = .ready(stamp)
        }
        #expect(fixture.plan(observed).description == """
        #1 service:db, RunUpdate sql database=shop migrations/0001.sql, update step changed
        #2 service:analytics, Nothing, up to date
        """)
    }

    @Test func stoppedContainerIsStartedNotRecreated() {
        var observed = fixture.converged()
        observed.containers["db"]?.running = false
        observed.containers["db"]?.state = "exited"
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #1]
        #3 service:db, StartContainer, container exited [after #2]
        #4 service:db, WaitReady, container started [after #3]
        #5 service:analytics, Nothing, up to date [after #1]
        """)
    }

    @Test func deletedContainerIsCreatedOnTheKeptData() {
        var observed = fixture.converged()
        observed.containers["analytics"] = nil
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, Nothing, up to date [after #1]
        #3 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #1]
        #4 service:analytics, CreateContainer port=20002, container missing [after #3]
        #5 service:analytics, WaitReady, container created [after #4]
        """)
    }

    @Test func deletedImageIsRebuiltWithoutTouchingTheRunningContainer() {
        var observed = fixture.converged()
        observed.images["acme/mariadb-10.11:shop"] = nil
        #expect(fixture.plan(observed).description == """
        #1 image:acme/mariadb-10.11:shop, Build, image missing
        #2 service:db, Nothing, up to date
        #3 service:analytics, Nothing, up to date [after #1]
        """)
    }

    @Test func deletedBaseImageIsEnsuredOnlyWhenSomethingIsBuilt() {
        var observed = fixture.converged()
        observed.images["debian:bookworm"] = nil
        #expect(fixture.plan(observed).isNoOp)
        observed.images["acme/mariadb-10.11:shop"] = nil
        #expect(fixture.plan(observed).description == """
        #1 image:debian:bookworm, EnsureBaseImage, base image missing
        #2 image:acme/mariadb-10.11:shop, Build, image missing [after #1]
        #3 service:db, Nothing, up to date
        #4 service:analytics, Nothing, up to date [after #2]
        """)
    }

    @Test func deletedDataDirGetsAFreshOneAndANewContainer() {
        var observed = fixture.converged()
        observed.dataDirs["db"] = .missing
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, RemoveContainer, data dir missing [after #1]
        #3 service:db, InitGolden updates=2, no set-up data for this recipe yet: init and 2 setup step(s), then 2 update step(s) once for every copy, \
        kept as the golden copy [after #2]
        #4 service:db, CopyGoldenData, data dir missing; a copy of the set-up data [after #3]
        #5 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #4]
        #6 service:db, CreateContainer port=20001, data dir missing [after #5]
        #7 service:db, WaitReady, container created [after #6]
        #8 service:db, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #7]
        #9 service:analytics, Nothing, up to date [after #1]
        #10 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #8 #9]
        """)
    }

    @Test func olderVersionWithNoImageRecipeToDumpItIsRefused() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            stamp.version = "13"
            observed.dataDirs["db"] = .ready(stamp)
        }
        let plan = fixture.plan(observed)
        #expect(!plan.isNoOp)
        #expect(plan.description == """
        problem: service db: upgrading its postgresql 13 data needs a 13 server to dump it, and no image recipe runs postgresql 13; \
        add that image recipe to Images/ (Images/README.md says how), or put the recipe back on 13
        #1 service:analytics, Nothing, up to date
        """)
    }

    @Test func otherEngineIsRefused() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["analytics"] {
            stamp.engine = "mysql"
            observed.dataDirs["analytics"] = .ready(stamp)
        }
        #expect(fixture.plan(observed).description == """
        problem: service analytics: its data dir .sandbox/dev/analytics was made by mysql 10.11, but the recipe now runs mariadb 10.11; \
        move the data yourself (dump it with the old recipe, load it into the new), \
        or keep it with `sandbox snapshot save NAME` and start fresh with `sandbox destroy --delete-data --instance dev`
        #1 service:db, Nothing, up to date
        """)
    }

    /// Data 15 and 10.11 made, under a recipe now on 17 and 11.8: the upgrade plan, exactly.
    static func olderData(_ fixture: PlannerFixture) -> ObservedState {
        var observed = fixture.converged()
        for service in fixture.sandbox.services {
            guard case var .ready(stamp)? = observed.dataDirs[service.name],
                  let old = service.otherVersions.first(where: { ["15", "10.11"].contains($0.spec.version) }) else { continue }
            stamp.version = old.spec.version
            stamp.imageHash = old.imageHash
            observed.dataDirs[service.name] = .ready(stamp)
            observed.containers[service.name]?.configHash = "made-for-the-old-image"
            observed.containers[service.name]?.imageHash = old.imageHash
            observed.dataSizes[service.name] = 60_000_000
            for image in old.images { observed.images[image.tag] = .some(image.hash) }
        }
        return observed
    }

    @Test func olderMajorIsUpgradedAfterASnapshotAndSwitchedInOneStep() throws {
        let fixture = try PlannerFixture(db: "postgresql-17", analytics: "mariadb-11.8")
        let plan = fixture.plan(Self.olderData(fixture))
        #expect(plan.description == """
        #1 instance:dev, StopContainers analytics,db, stopped for a consistent copy of their data
        #2 instance:dev, SaveSnapshot before-upgrade-15-17-10.11-11.8, every service's data copied, then renamed into place as snapshot \
        'before-upgrade-15-17-10.11-11.8' once complete [after #1]
        #3 service:analytics, StartContainer, the snapshot failed: started again on its untouched data [if #2 fails]
        #4 service:analytics, WaitReady, container started [after #3]
        #5 service:db, StartContainer, the snapshot failed: started again on its untouched data [if #2 fails]
        #6 service:db, WaitReady, container started [after #5]
        #7 service:db, UpgradeData 15->17 dump, postgresql 15 -> 17 by dump and restore (the 15 server dumps a copy of the data, a fresh 17 data dir \
        restores it); about 5 s for 57 MiB; the old data is not touched [after #2]
        #8 service:analytics, UpgradeData 10.11->11.8 in-place, mariadb 10.11 -> 11.8 in place (the 11.8 server starts on a copy of the data and \
        upgrades it); about 4 s for 57 MiB; the old data is not touched [after #2]
        #9 instance:dev, SwitchData db,analytics, the upgraded data replaces the old in one step [after #7 #8]
        #10 service:db, AbandonUpgrade 15->17 dump, an upgrade failed: its staged result is deleted and the 15 server runs again on the old data [if \
        #7 or #8 fails]
        #11 service:analytics, AbandonUpgrade 10.11->11.8 in-place, an upgrade failed: its staged result is deleted and the 10.11 server runs again \
        on the old data [if #7 or #8 fails]
        #12 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name [after #9]
        #13 service:db, RemoveContainer, image recipe changed [after #12]
        #14 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #13]
        #15 service:db, CreateContainer port=20001, image recipe changed [after #14]
        #16 service:db, WaitReady, container created [after #15]
        #17 service:analytics, RemoveContainer, image recipe changed [after #12]
        #18 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #17]
        #19 service:analytics, CreateContainer port=20002, image recipe changed [after #18]
        #20 service:analytics, WaitReady, container created [after #19]
        #21 instance:dev, DeleteReplacedData, the old data is kept in snapshot 'before-upgrade-15-17-10.11-11.8' [after #16 #20, best effort]
        #22 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #21]
        """)
        // The upgraded data keeps its password and applied steps; only the version and image change.
        for action in plan.actions {
            guard case let .upgradeData(upgrade) = action.kind else { continue }
            #expect(upgrade.stamp.password == "pw" && upgrade.stamp.updates == upgrade.from.updates)
            #expect(upgrade.stamp.version == upgrade.service.spec.version && upgrade.stamp.imageHash == upgrade.service.imageHash)
            #expect(upgrade.container?.running == true, "started again if the upgrade fails")
            #expect((upgrade.method == .dump) == (upgrade.old?.imageTag == "acme/postgresql-15:shop"))
        }
        guard case let .stopContainers(stop)? = plan.actions.first?.kind else { Issue.record("no stop first"); return }
        #expect(stop.map(\.service) == ["analytics", "db"], "every service stops for the snapshot")
        let restarted = plan.actions.filter { if case .startContainer = $0.kind { return !$0.isCompensation } else { return false } }
        #expect(restarted.isEmpty, "every service upgrades: none restarts before")
    }

    @Test func anUpgradeBuildsTheOldImageItDumpsWithAndKeepsEarlierSnapshots() throws {
        let fixture = try PlannerFixture(db: "postgresql-17")
        var observed = Self.olderData(fixture)
        observed.dataDirs["analytics"] = fixture.converged().dataDirs["analytics"]
        observed.containers["analytics"] = fixture.converged().containers["analytics"]
        observed.images["acme/postgresql-15:shop"] = nil
        observed.snapshotNames = ["before-upgrade-15-17"]
        let plan = fixture.plan(observed)
        #expect(plan.description == """
        #1 image:acme/postgresql-15:shop, Build, image missing
        #2 instance:dev, StopContainers analytics,db, stopped for a consistent copy of their data
        #3 instance:dev, SaveSnapshot before-upgrade-15-17-2, every service's data copied, then renamed into place as snapshot \
        'before-upgrade-15-17-2' once complete [after #2]
        #4 service:analytics, StartContainer, started again after the copy [after #3]
        #5 service:analytics, WaitReady, container started [after #4]
        #6 service:analytics, StartContainer, the snapshot failed: started again on its untouched data [if #3 fails]
        #7 service:analytics, WaitReady, container started [after #6]
        #8 service:db, StartContainer, the snapshot failed: started again on its untouched data [if #3 fails]
        #9 service:db, WaitReady, container started [after #8]
        #10 service:db, UpgradeData 15->17 dump, postgresql 15 -> 17 by dump and restore (the 15 server dumps a copy of the data, a fresh 17 data dir \
        restores it); about 5 s for 57 MiB; the old data is not touched [after #1 #3]
        #11 instance:dev, SwitchData db, the upgraded data replaces the old in one step [after #10]
        #12 service:db, AbandonUpgrade 15->17 dump, an upgrade failed: its staged result is deleted and the 15 server runs again on the old data [if \
        #10 fails]
        #13 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name [after #11]
        #14 service:db, RemoveContainer, image recipe changed [after #13]
        #15 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #14]
        #16 service:db, CreateContainer port=20001, image recipe changed [after #15]
        #17 service:db, WaitReady, container created [after #16]
        #18 service:analytics, Nothing, up to date [after #13]
        #19 instance:dev, DeleteReplacedData, the old data is kept in snapshot 'before-upgrade-15-17-2' [after #17 #18, best effort]
        #20 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #5 #19]
        """)
        guard case let .stopContainers(stop) = plan.actions[1].kind else { Issue.record("no stop"); return }
        let restarted = plan.actions.compactMap { action -> String? in
            if case let .startContainer(c) = action.kind, !action.isCompensation { return c.service } else { return nil }
        }
        #expect(stop.map(\.service) == ["analytics", "db"] && restarted == ["analytics"], "the service not upgraded runs again")
    }

    @Test func aNewerVersionWhoseRecipeNamesNoRouteIsRefused() throws {
        let fixture = try PlannerFixture(db: "postgresql-17")
        var planner = fixture.planner
        planner.sandbox.services[0].spec.upgrade = nil
        var observed = Self.olderData(fixture)
        observed.dataDirs["analytics"] = fixture.converged().dataDirs["analytics"]
        #expect(planner.up(observed).problems.map(\.description) == [
            "service db: its data dir holds postgresql 15 data, and stock image recipe 'postgresql-17' runs 17 "
                + "but does not say how to upgrade older data; "
                + "add 'upgrade' to that recipe's service (docs/recipes.md, \"Upgrades\"), or put the recipe back on postgresql 15",
        ])
    }

    @Test func downgradeIsRefusedWithTheSnapshotFromBeforeTheUpgrade() {
        var observed = fixture.converged()
        if case var .ready(stamp)? = observed.dataDirs["db"] {
            stamp.version = "17"
            observed.dataDirs["db"] = .ready(stamp)
        }
        observed.snapshotNames = ["before-upgrade-15-17", "before-upgrade-15-17-2", "mine"]
        #expect(fixture.plan(observed).description == """
        problem: service db: its data dir holds postgresql 17 data, newer than the recipe's 15, and data is never moved to an older version; \
        go back to the data from before the upgrade with `sandbox snapshot restore before-upgrade-15-17-2 --instance dev`, \
        or put the recipe back on postgresql 17
        #1 service:analytics, Nothing, up to date
        """)
    }

    @Test func versionsCompareNumberByNumber() {
        #expect(EngineVersionOrder.compare("10.11", "11.8") == .orderedAscending)
        #expect(EngineVersionOrder.compare("9.6", "10") == .orderedAscending)
        #expect(EngineVersionOrder.compare("17", "15") == .orderedDescending)
        #expect(EngineVersionOrder.compare("15", "15.0") == .orderedSame)
        #expect(EngineVersionOrder.compare("15beta", "15") == nil)
        #expect(DataUpgrade.estimate(method: .dump, bytes: 0) < DataUpgrade.estimate(method: .dump, bytes: 1_000_000_000))
    }

    @Test func takenPortMovesAStoppedServiceToAFreeOne() {
        var observed = fixture.converged()
        observed.containers["db"]?.running = false
        observed.containers["db"]?.state = "exited"
        observed.ports["db"] = PortChoice(port: 20007, change: "port 20001 is taken by another program; moving to 20007")
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, RetireContainer, port 20001 is taken by another program; moving to 20007 [after #1]
        #3 service:db, WriteServiceEnv, its environment, as the instance's network sees the others [after #2]
        #4 service:db, CreateContainer port=20007, port 20001 is taken by another program; moving to 20007 [after #3]
        #5 service:db, WaitReady, container created [after #4]
        #6 service:db, RestoreContainer, the new container failed: the one it replaced runs again, as it was [if #4 or #5 fails]
        #7 service:db, RemoveContainer, replaced by the new container, which is ready [after #5]
        #8 service:analytics, Nothing, up to date [after #1]
        #9 instance:dev, WriteState, records ports and commit once everything else is done [after #7 #8]
        """)
    }

    @Test func takenPinnedPortIsAProblem() {
        var observed = fixture.converged()
        observed.ports["analytics"] = nil
        observed.portConflicts["analytics"] = 3306
        #expect(fixture.plan(observed).description == """
        problem: service analytics: port 3306 on 127.0.0.1 is already in use; \
        free it (`ss -ltnp 'sport = :3306'` shows what holds it), \
        or change 'port' for analytics in Recipes/shop.yml (or remove it to pick a free port)
        #1 service:db, Nothing, up to date
        """)
    }

    @Test func foreignDataDirIsNeverTouched() {
        var observed = fixture.converged()
        observed.dataDirs["db"] = .foreign
        #expect(fixture.plan(observed).problems == [
            .init(.dataDirMismatch, "service db: .sandbox/dev/db exists but was not made by sandbox",
                  fix: "move it away (nothing is deleted automatically), then `sandbox up` again"),
        ])
    }

    @Test func removedServiceLosesItsContainerButNotItsData() {
        var observed = fixture.converged()
        observed.containers["cache"] = ObservedContainer(id: "c0ffee", name: "old", service: "cache", running: true,
                                                         state: "running", configHash: "x", imageHash: "y")
        #expect(fixture.plan(observed).description == """
        #1 service:db, Nothing, up to date
        #2 service:analytics, Nothing, up to date
        #3 service:cache, RemoveContainer, service no longer in the recipe (its data dir is kept)
        """)
    }

    @Test func changedContainerSettingsRecreate() {
        var observed = fixture.converged()
        observed.containers["analytics"]?.configHash = "settings-from-an-older-sandbox"
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, Nothing, up to date [after #1]
        #3 service:analytics, RetireContainer, container settings changed [after #1]
        #4 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #3]
        #5 service:analytics, CreateContainer port=20002, container settings changed [after #4]
        #6 service:analytics, WaitReady, container created [after #5]
        #7 service:analytics, RestoreContainer, the new container failed: the one it replaced runs again, as it was [if #5 or #6 fails]
        #8 service:analytics, RemoveContainer, replaced by the new container, which is ready [after #6]
        """)
    }

    @Test func freshDataDirWithStoppedContainerStillRecreates() {
        var observed = fixture.converged()
        observed.dataDirs["analytics"] = .missing
        observed.containers["analytics"]?.running = false
        observed.golden = ["analytics"]
        #expect(fixture.plan(observed).description == """
        #1 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #2 service:db, Nothing, up to date [after #1]
        #3 service:analytics, RemoveContainer, data dir missing [after #1]
        #4 service:analytics, CopyGoldenData, data dir missing; a copy of the set-up data [after #3]
        #5 service:analytics, WriteServiceEnv, its environment, as the instance's network sees the others [after #4]
        #6 service:analytics, CreateContainer port=20002, data dir missing [after #5]
        #7 service:analytics, WaitReady, container created [after #6]
        #8 service:analytics, SetCredentials, a fresh copy has the golden copy's password; this instance gets its own [after #7]
        #9 instance:dev, WriteEnv, the variables, from the data's credentials and the ports [after #2 #8]
        """)
    }

    @Test func planningIsDeterministic() {
        let observed = fixture.converged()
        #expect(fixture.plan(observed) == fixture.plan(observed))
    }
}

/// A checkout in a temporary folder with a two-service sandbox, resolved once; removed when the test ends.
final class PlannerFixture: Sendable {
    let root: URL
    let sandbox: ResolvedSandbox
    let planner: Planner
    let ports = ["db": PortChoice(port: 20001), "analytics": PortChoice(port: 20002)]

    var db: ResolvedService { sandbox.services[0] }

    init(db: String = "postgresql-15", analytics: String = "mariadb-10.11") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)")
        let recipes = root.appendingPathComponent("Recipes")
        try FileManager.default.createDirectory(at: recipes.appendingPathComponent("migrations"), withIntermediateDirectories: true)
        try """
        sandbox: shop
        owner: acme
        services:
          db:
            image: \(db)
            setup:
              - create-database: {name: shop}
              - sql: {database: shop, file: schema.sql}
            update:
              - sql: {database: shop, file: migrations/}
          analytics:
            image: \(analytics)
            port: 3306
        """.write(to: recipes.appendingPathComponent("shop.yml"), atomically: true, encoding: .utf8)
        try "create table t (id int);".write(to: recipes.appendingPathComponent("schema.sql"), atomically: true, encoding: .utf8)
        try "alter table t add a int;".write(to: recipes.appendingPathComponent("migrations/0001.sql"), atomically: true, encoding: .utf8)
        try "alter table t add b int;".write(to: recipes.appendingPathComponent("migrations/0002.sql"), atomically: true, encoding: .utf8)
        let set = try RecipeSet.load(Checkout(root: root))
        sandbox = try Resolver(set).resolve(try set.sandbox(named: "shop"))
        planner = Planner(sandbox: sandbox, layout: InstanceLayout(checkout: Checkout(root: root), instance: "dev"), uid: 1000, gid: 1000)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func plan(_ observed: ObservedState) -> Plan { planner.up(observed) }

    func layout(_ instance: String) -> InstanceLayout { InstanceLayout(checkout: planner.layout.checkout, instance: instance) }

    /// The state right after a successful `up`.
    func converged() -> ObservedState {
        var observed = ObservedState(ports: ports)
        observed.saved = InstanceState(sandbox: sandbox.name, ports: ports.mapValues(\.port))
        for image in sandbox.images { observed.images[image.tag] = .some(image.hash) }
        for service in sandbox.services {
            let port = ports[service.name]?.port ?? 0
            observed.containers[service.name] = ObservedContainer(
                id: "id-\(service.name)", name: "sbx-\(service.name)", service: service.name, running: true, state: "running",
                configHash: try! planner.containerSpec(service, port: port).configHash, imageHash: service.imageHash)
            var updates: [String: String] = [:]
            for step in service.update { updates[step.hash] = step.title }
            observed.dataDirs[service.name] = .ready(DataStamp(
                engine: service.spec.engine, version: service.spec.version, imageHash: service.imageHash,
                freshHash: service.freshHash, setupHash: service.setupHash, user: service.spec.user, password: "pw", updates: updates))
        }
        return observed
    }
}
