import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

extension Planner {
    /// One service's chain, each action after the one before it: its data (a fresh copy, or a notice), its container
    /// (kept, started, or made anew), its credentials, then the update steps its data has not had.
    func serviceActions(_ service: ResolvedService, _ observed: ObservedState, problems: inout [Plan.Problem]) -> [Plan.Action] {
        let target = Plan.Action.Target.service(service.name)
        let data = observed.dataDirs[service.name] ?? .missing
        let container = observed.containers[service.name]
        var steps: [Plan.Action] = []

        if let port = observed.portConflicts[service.name] {
            problems.append(.init(.portTaken, Messages.pinnedPortTaken(service.name, port: port, address: service.publish),
                                  fix: Messages.pinnedPortFix(service.name, port: port, recipe: sandbox.recipePath)))
            return []
        }
        guard let port = observed.ports[service.name] else {
            problems.append(.init(.portTaken, "service \(service.name): no free host port found", fix: Messages.freePorts))
            return []
        }

        var freshData = false
        switch data {
        case .foreign:
            problems.append(.init(.dataDirMismatch, "service \(service.name): \(layout.checkout.display(layout.dataDir(service.name).path)) "
                                      + "exists but was not made by sandbox",
                                  fix: "move it away (nothing is deleted automatically), then `sandbox up` again"))
            return []
        case let .damaged(reason):
            problems.append(.init(.dataDirDamaged, "service \(service.name): the data dir "
                                      + "\(layout.checkout.display(layout.dataDir(service.name).path)) is damaged: \(reason)",
                                  fix: Messages.damagedDataFix(instance: layout.instance)))
            return []
        case let .ready(stamp):
            switch versionChange(service, stamp, observed) {
            case let .failure(problem)?:
                problems.append(problem)
                return []
            case .success?:
                // Planned by `upgrade` for `up`; anything else (a restore's or reset's later steps) never gets here with it.
                problems.append(.init(.dataDirMismatch, "service \(service.name): its \(stamp.engine) \(stamp.version) data needs "
                                          + "an upgrade to \(service.spec.version) first",
                                      fix: "run `\(Messages.up(layout.instance))`: it upgrades the data"))
                return []
            case nil:
                break
            }
            if stamp.setupHash != service.setupHash {
                steps.append(.init(target: target,
                                   kind: .notice("setup steps changed since this data dir was set up; "
                                       + "they run only on a fresh data dir (`sandbox reset` to start over)"),
                                   cause: "setup steps changed"))
            }
        case .missing:
            freshData = true
        }

        let wanted: ContainerSpec
        do { wanted = try containerSpec(service, port: port.port) } catch {
            problems.append(.init(error.code, "service \(service.name): \(error.message)", fix: error.fix ?? "fix the image recipe"))
            return []
        }
        var create = false
        var containerCause = ""
        if let container {
            let cause: String?
            if freshData {
                cause = "data dir missing"
            } else if observed.interrupted {
                cause = "the previous command was interrupted while it worked on the container"
            } else if container.configHash != wanted.configHash {
                if container.imageHash != service.imageHash { cause = "image recipe changed" }
                else if let change = port.change { cause = change }
                else { cause = "container settings changed" }
            } else {
                cause = nil
            }
            if let cause {
                steps.append(.init(target: target, kind: .removeContainer(container, force: false), cause: cause))
                create = true
                containerCause = cause
            } else if !container.running {
                steps.append(.init(target: target, kind: .startContainer(container), cause: "container \(container.state)"))
                steps.append(.init(target: target, kind: .waitReady(service), cause: "container started"))
            }
        } else {
            create = true
            containerCause = freshData ? "new instance" : "container missing"
        }
        let goldenSteps = Self.sharedUpdates(service)
        if freshData {
            if !observed.golden.contains(service.name), let found = observed.registry?.golden[service.name] {
                steps.append(.init(target: target, kind: .pullGolden(service, reference: found.reference, updates: found.updates),
                                   cause: "no set-up data here for this recipe; the registry has it (checked against its hashes before use)"))
            } else if !observed.golden.contains(service.name) {
                let updates = goldenSteps.isEmpty ? "" : ", then \(goldenSteps.count) update step(s) once for every copy"
                steps.append(.init(target: target, kind: .initGolden(service, updates: goldenSteps),
                                   cause: "no set-up data for this recipe yet: init and \(service.setup.count) setup step(s)\(updates), "
                                       + "kept as the golden copy"))
            }
            steps.append(.init(target: target, kind: .copyGolden(service), cause: "data dir missing; a copy of the set-up data"))
        }
        if create {
            steps.append(.init(target: target, kind: .createContainer(wanted), cause: containerCause))
            steps.append(.init(target: target, kind: .waitReady(service), cause: "container created"))
        }
        if service.actions["set-password"] != nil && (freshData || observed.sharedCredentials.contains(service.name)) {
            steps.append(.init(target: target, kind: .setCredentials(service),
                               cause: freshData ? "a fresh copy has the golden copy's password; this instance gets its own"
                                                : "its password is shared with other copies; this instance gets its own"))
        }

        var applied: [String: String] = [:]
        if case let .ready(stamp) = data { applied = stamp.updates }
        // A fresh copy of the golden data comes with the update steps the golden copy applied (or will apply).
        let inGolden: Set<String> = !freshData ? []
            : observed.golden.contains(service.name) ? observed.goldenUpdates[service.name] ?? []
            : observed.registry?.golden[service.name]?.updates ?? Set(goldenSteps.map(\.hash))
        for step in service.update where applied[step.hash] == nil && !inGolden.contains(step.hash) {
            let changedBefore = applied.values.contains(step.title)
            steps.append(.init(target: target, kind: .runUpdate(step, service: service),
                               cause: changedBefore ? "update step changed" : "update step is new"))
        }

        if !steps.contains(where: { $0.changes }) {
            steps.append(.init(target: target, kind: .nothing, cause: "up to date"))
        }
        return steps
    }
}
