import Foundation
import SandboxBase
import SandboxHost
import SandboxObserve
import SandboxRecipes

/// Plans that replace or remove an instance's data: reset, snapshot restore, down and destroy.
/// Replacing data is staged per service, switched in one step for the whole instance, and then
/// planned onwards as `up` would from the replaced state.
extension Planner {
    func reset(_ observed: ObservedState) -> Plan {
        var b = PlanBuilder()
        let start = begin(observed, &b)
        let images = addImages(imageActions(currentImages(observed)), after: start, &b)
        var stamps: [String: DataStamp] = [:]
        var before: [String: [Int]] = [:]
        for service in sandbox.services where service.holdsInstanceData {
            let goldenSteps = Self.sharedUpdates(service)
            before[service.name] = start
            if !observed.golden.contains(service.name) {
                before[service.name] = [b.add(.init(target: .service(service.name), kind: .initGolden(service, updates: goldenSteps),
                                                    cause: "no set-up data for this recipe yet: init and \(service.setup.count) setup step(s), "
                                                        + "kept as the golden copy"),
                                              after: start + [images[service.imageTag]].compactMap { $0 })]
            }
            let updates = observed.golden.contains(service.name) ? observed.goldenUpdates[service.name] ?? [] : Set(goldenSteps.map(\.hash))
            stamps[service.name] = DataStamp(engine: service.spec.engine, version: service.spec.version, imageHash: service.imageHash,
                                             freshHash: service.freshHash, setupHash: service.setupHash, user: service.spec.user,
                                             password: nil,
                                             updates: Dictionary(uniqueKeysWithValues: service.update.filter { updates.contains($0.hash) }
                                                 .map { ($0.hash, $0.title) }))
        }
        let owned = sandbox.services.filter(\.holdsInstanceData)
        let sources = Dictionary(uniqueKeysWithValues: owned.map { ($0.name, layout.golden($0)) })
        return replace(observed, sources: sources, stamps: stamps, shared: Set(owned.map(\.name)), builder: b, before: before,
                       images: images, why: "reset", what: "a fresh copy of the set-up data")
    }

    func restore(_ name: String, _ observed: ObservedState) -> Plan {
        guard let snapshot = observed.snapshot, snapshot.name == name else {
            let names = observed.snapshotNames
            return Plan(actions: [], problems: [.init(.noSuchSnapshot,
                                                      "instance '\(layout.instance)' has no snapshot '\(name)'\(didYouMean(name, among: names))",
                                                      fix: names.isEmpty ? "save one first: sandbox snapshot save NAME"
                                                                         : "use one of: \(names.joined(separator: ", "))")])
        }
        var problems: [Plan.Problem] = []
        for service in sandbox.services where service.holdsInstanceData {
            guard let saved = snapshot.stamps[service.name] else {
                problems.append(.init(.dataDirMismatch, "snapshot '\(name)' has no data for service \(service.name)",
                                      fix: "restore it into an instance of the sandbox it was saved from (\(snapshot.sandbox))"))
                continue
            }
            if saved.engine != service.spec.engine || saved.version != service.spec.version {
                problems.append(.init(.dataDirMismatch, "snapshot '\(name)' holds \(saved.engine) \(saved.version) data for \(service.name), "
                                          + "but the recipe runs \(service.spec.engine) \(service.spec.version)",
                                      fix: "restore it with the recipes it was saved with (git checkout), dump the data, and load it into the new version"))
            }
        }
        if !problems.isEmpty { return Plan(actions: [], problems: problems) }
        var b = PlanBuilder()
        let start = begin(observed, &b)
        let images = addImages(imageActions(currentImages(observed)), after: start, &b)
        let sources = Dictionary(uniqueKeysWithValues: sandbox.services.filter(\.holdsInstanceData).map {
            ($0.name, layout.snapshots.appendingPathComponent(name).appendingPathComponent($0.name))
        })
        let before = Dictionary(uniqueKeysWithValues: sandbox.services.filter(\.holdsInstanceData).map { ($0.name, start) })
        return replace(observed, sources: sources, stamps: snapshot.stamps, shared: snapshot.sharedCredentials, builder: b, before: before,
                       images: images, why: "restore", what: "a copy of snapshot '\(name)'")
    }

    /// Stage every service's new data (each after `before[service]`), remove the containers serving the old, switch,
    /// then converge as `up` would. A failure before the switch throws the staged copies away. Services without data
    /// (a cache, the application) keep running.
    func replace(_ observed: ObservedState, sources: [String: URL], stamps: [String: DataStamp], shared: Set<String>, builder: PlanBuilder,
                 before: [String: [Int]], images: [String: Int], why: String, what: String) -> Plan {
        var b = builder
        let names = sandbox.services.filter(\.holdsInstanceData).map(\.name)
        var staged: [Int] = []
        for service in sandbox.services {
            guard let source = sources[service.name] else { continue }
            staged.append(b.add(.init(target: .service(service.name), kind: .stageData(service: service.name, source: source),
                                      cause: "\(why): \(what), staged while the service still runs"), after: before[service.name] ?? []))
        }
        var switching = staged
        let containers = observed.containers.values.filter { names.contains($0.service) }.sorted { $0.service < $1.service }
        if !containers.isEmpty {
            switching = [b.add(.init(target: .instance(layout.instance), kind: .removeContainers(containers),
                                     cause: "\(why) discards the data they serve, so they are killed, not stopped"), after: staged)]
        }
        let switched = b.add(.init(target: .instance(layout.instance), kind: .switchData(services: names),
                                   cause: "the staged data replaces the current data of every service in one step"), after: switching)
        b.add(.init(target: .instance(layout.instance), kind: .discardStaged(services: names),
                    cause: "the \(why) failed before its switch: the staged copies are deleted, the data stays as it was"),
              onFailureOf: staged + switching + [switched])
        var after = observed
        after.containers = observed.containers.filter { !names.contains($0.key) }
        after.sharedCredentials = shared
        for name in names { after.dataDirs[name] = stamps[name].map { .ready($0) } ?? .missing }
        var problems: [Plan.Problem] = []
        let ends = addServices(after, after: [switched], images: images, &b, problems: &problems)
        b.add(.init(target: .instance(layout.instance), kind: .deleteReplacedData(services: names), cause: "the replaced data is no longer needed"),
              after: ends, bestEffort: true)
        finish(after, &b)
        return b.plan(problems: problems, ports: ports(after))
    }

    /// `snapshot save`: the running services stopped for a consistent copy, every data dir copied, the services started
    /// again; if the copy fails, they are started again all the same.
    func saveSnapshot(_ name: String, _ observed: ObservedState) -> Plan {
        var problems: [Plan.Problem] = []
        for service in sandbox.services where service.holdsInstanceData {
            guard case .ready = observed.dataDirs[service.name] ?? .missing else {
                problems.append(.init(.notRunning, "instance '\(layout.instance)' has no data for \(service.name) yet",
                                      fix: "run `\(Messages.up(layout.instance))` first"))
                continue
            }
        }
        if observed.snapshotNames.contains(name) {
            problems.append(.init(.invalidName, "snapshot '\(name)' already exists in instance '\(layout.instance)'",
                                  fix: "pick another name, or delete it first: `sandbox snapshot delete \(name) --instance \(layout.instance)`"))
        }
        if !problems.isEmpty { return Plan(actions: [], problems: problems) }
        var b = PlanBuilder()
        let start = Self.recovery(observed, instance: layout.instance, &b)
        let running = dataContainers(observed).filter(\.running)
        snapshot(name, running: running, restart: running, after: start, &b)
        return b.plan(ports: ports(observed))
    }

    /// Stops `running`, saves every service's data as snapshot `name`, starts `restart` again (and waits for them), and,
    /// should the copy fail, starts every one it stopped. Returns the save's number.
    @discardableResult
    func snapshot(_ name: String, running: [ObservedContainer], restart: [ObservedContainer], after: [Int], _ b: inout PlanBuilder) -> Int {
        var waits = after
        if !running.isEmpty {
            waits = [b.add(.init(target: .instance(layout.instance), kind: .stopContainers(running),
                                 cause: "stopped for a consistent copy of their data"), after: after)]
        }
        let owned = sandbox.services.filter(\.holdsInstanceData).map(\.name)
        let save = b.add(.init(target: .instance(layout.instance), kind: .saveSnapshot(name: name, services: owned),
                               cause: "every service's data copied, then renamed into place as snapshot '\(name)' once complete"),
                         after: waits)
        for container in restart {
            restartChain(container, after: [save], onFailureOf: [], cause: "started again after the copy", &b)
        }
        for container in running {
            restartChain(container, after: [], onFailureOf: [save], cause: "the snapshot failed: started again on its untouched data", &b)
        }
        return save
    }

    /// The containers of the services that keep data, by service name.
    func dataContainers(_ observed: ObservedState) -> [ObservedContainer] {
        observed.containers.values.filter { sandbox.service($0.service)?.holdsInstanceData == true }.sorted { $0.service < $1.service }
    }

    /// A stopped container started again, then waited for.
    private func restartChain(_ container: ObservedContainer, after: [Int], onFailureOf: [Int], cause: String, _ b: inout PlanBuilder) {
        guard let service = sandbox.service(container.service) else { return }
        let start = b.add(.init(target: .service(service.name), kind: .startContainer(container), cause: cause), after: after, onFailureOf: onFailureOf)
        b.add(.init(target: .service(service.name), kind: .waitReady(service), cause: "container started"), after: [start])
    }

    /// `restart`: each named service (every one when none is) stopped cleanly and started again, its environment file
    /// written anew first; a service whose container is stopped is started. The instance's other services keep running.
    func restart(_ names: [String], _ observed: ObservedState) -> Plan {
        var b = PlanBuilder()
        let start = Self.recovery(observed, instance: layout.instance, &b)
        var problems: [Plan.Problem] = []
        let chosen = names.isEmpty ? sandbox.services : sandbox.services.filter { names.contains($0.name) }
        for service in chosen {
            guard let container = observed.containers[service.name] else {
                problems.append(.init(.notRunning, "service \(service.name) of instance '\(layout.instance)' has no container to restart",
                                      fix: "run `\(Messages.up(layout.instance))` first"))
                continue
            }
            let target = Plan.Action.Target.service(service.name)
            let env = b.add(.init(target: target, kind: .writeServiceEnv(service), cause: "its environment, as the instance's network sees the others"),
                            after: start)
            let again = b.add(.init(target: target, kind: container.running ? .restartContainer(container) : .startContainer(container),
                                    cause: container.running ? "restart asked for" : "container \(container.state)"), after: [env])
            b.add(.init(target: target, kind: .waitReady(service), cause: "container started"), after: [again])
        }
        return problems.isEmpty ? b.plan(ports: ports(observed)) : Plan(actions: [], problems: problems)
    }

    /// `snapshot delete`: needs no recipe and no engine.
    package static func deleteSnapshot(_ name: String, instance: String, _ observed: ObservedState) -> Plan {
        guard observed.snapshotNames.contains(name) else {
            let names = observed.snapshotNames
            return Plan(actions: [], problems: [.init(.noSuchSnapshot, "instance '\(instance)' has no snapshot '\(name)'\(didYouMean(name, among: names))",
                                                      fix: names.isEmpty ? "there is nothing to delete; `sandbox snapshot ls` lists them"
                                                                         : "use one of: \(names.joined(separator: ", "))")])
        }
        var b = PlanBuilder()
        let start = recovery(observed, instance: instance, &b)
        b.add(.init(target: .instance(instance), kind: .deleteSnapshot(name: name),
                    cause: "renamed out of the list, then deleted: frees what it alone holds"), after: start)
        return b.plan()
    }

    /// `down` and `destroy` need no recipe: they act on the containers the instance's labels name.
    package static func removal(_ operation: InstanceOperation, layout: InstanceLayout, _ observed: ObservedState) -> Plan {
        let instance = layout.instance
        let deleteData: Bool
        switch operation {
        case let .destroy(delete): deleteData = delete
        default: deleteData = false
        }
        var b = PlanBuilder()
        let start = recovery(observed, instance: instance, &b)
        var removed: [Int] = []
        for (name, container) in observed.containers.sorted(by: { $0.key < $1.key }) {
            removed.append(b.add(.init(target: .service(name), kind: .removeContainer(container, force: deleteData),
                                       cause: deleteData ? "destroy: its data is deleted next, so it is killed" : "stop and remove; its data stays"),
                                 after: start))
        }
        // The networks go with the last container (the next `up` makes one again), whatever made them: one an `up` made
        // before it failed, with no container and no record, goes too.
        for network in observed.networks {
            b.add(.init(target: .instance(instance), kind: .removeNetwork(name: network),
                        cause: removed.isEmpty ? "the instance's network: no container uses it" : "the instance's network, once its containers are gone"),
                  after: start + removed, bestEffort: true)
        }
        if deleteData && !observed.leftovers.deletion {
            b.add(.init(target: .instance(instance), kind: .deleteData,
                        cause: "--delete-data: data dirs, env file, state and secrets deleted; snapshots kept"), after: start + removed)
        }
        if b.actions.isEmpty { b.add(.init(target: .instance(instance), kind: .nothing, cause: "no containers")) }
        return b.plan()
    }
}
