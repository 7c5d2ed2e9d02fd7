import Foundation
import SandboxHost
import SandboxObserve
import SandboxRecipes

/// Plans that replace or remove an instance's data: reset, snapshot restore, down and destroy.
/// Replacing data is staged per service, switched in one step for the whole instance, and then
/// planned onwards as `up` would from the replaced state.
extension Planner {
    func reset(_ observed: ObservedState) -> Plan {
        var actions = imageActions(observed.images)
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services {
            let goldenSteps = Self.sharedUpdates(service)
            if !observed.golden.contains(service.name) {
                actions.append(.init(target: .service(service.name), kind: .initGolden(service, updates: goldenSteps),
                                     cause: "no set-up data for this recipe yet: init and \(service.setup.count) setup step(s), kept as the golden copy"))
            }
            let updates = observed.golden.contains(service.name) ? observed.goldenUpdates[service.name] ?? [] : Set(goldenSteps.map(\.hash))
            stamps[service.name] = DataStamp(engine: service.spec.engine, version: service.spec.version, imageHash: service.imageHash,
                                             freshHash: service.freshHash, setupHash: service.setupHash, user: service.spec.user,
                                             password: nil,
                                             updates: Dictionary(uniqueKeysWithValues: service.update.filter { updates.contains($0.hash) }
                                                 .map { ($0.hash, $0.title) }))
        }
        let sources = Dictionary(uniqueKeysWithValues: sandbox.services.map { ($0.name, layout.golden($0)) })
        return replace(observed, sources: sources, stamps: stamps, shared: Set(sandbox.services.map(\.name)), before: actions,
                       why: "reset", what: "a fresh copy of the set-up data")
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
        for service in sandbox.services {
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
        let sources = Dictionary(uniqueKeysWithValues: sandbox.services.map {
            ($0.name, layout.snapshots.appendingPathComponent(name).appendingPathComponent($0.name))
        })
        return replace(observed, sources: sources, stamps: snapshot.stamps, shared: snapshot.sharedCredentials,
                       before: imageActions(observed.images), why: "restore", what: "a copy of snapshot '\(name)'")
    }

    /// Stage every service's new data, remove the containers serving the old, switch, then converge as `up` would.
    func replace(_ observed: ObservedState, sources: [String: URL], stamps: [String: DataStamp], shared: Set<String>,
                 before: [Plan.Action], why: String, what: String) -> Plan {
        var actions = before
        let names = sandbox.services.map(\.name)
        for service in sandbox.services {
            guard let source = sources[service.name] else { continue }
            actions.append(.init(target: .service(service.name), kind: .stageData(service: service.name, source: source),
                                 cause: "\(why): \(what), staged while the service still runs"))
        }
        let containers = observed.containers.values.sorted { $0.service < $1.service }
        if !containers.isEmpty {
            actions.append(.init(target: .instance(layout.instance), kind: .removeContainers(containers),
                                 cause: "\(why) discards the data they serve, so they are killed, not stopped"))
        }
        actions.append(.init(target: .instance(layout.instance), kind: .switchData(services: names),
                             cause: "the staged data replaces the current data of every service in one step"))
        var after = observed
        after.containers = [:]
        after.sharedCredentials = shared
        for name in names { after.dataDirs[name] = stamps[name].map { .ready($0) } ?? .missing }
        var problems: [Plan.Problem] = []
        actions += serviceActions(after, problems: &problems)
        actions.append(.init(target: .instance(layout.instance), kind: .deleteReplacedData, cause: "the replaced data is no longer needed"))
        return Plan(actions: actions, problems: problems)
    }

    /// `down` and `destroy` need no recipe: they act on the containers the instance's labels name.
    package static func removal(_ operation: InstanceOperation, instance: String, containers: [String: ObservedContainer]) -> Plan {
        var actions: [Plan.Action] = []
        let deleteData: Bool
        switch operation {
        case let .destroy(delete): deleteData = delete
        default: deleteData = false
        }
        for (name, container) in containers.sorted(by: { $0.key < $1.key }) {
            actions.append(.init(target: .service(name), kind: .removeContainer(container, force: deleteData),
                                 cause: deleteData ? "destroy: its data is deleted next, so it is killed" : "stop and remove; its data stays"))
        }
        if deleteData {
            actions.append(.init(target: .instance(instance), kind: .deleteData,
                                 cause: "--delete-data: data dirs, env file, state and secrets deleted; snapshots kept"))
        }
        if actions.isEmpty { actions.append(.init(target: .instance(instance), kind: .nothing, cause: "no containers")) }
        return Plan(actions: actions)
    }
}
