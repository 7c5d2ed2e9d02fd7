import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

/// A pure function from (recipes, observed state, operation) to the ordered actions that carry the operation out.
package struct Planner: Sendable {
    package var sandbox: ResolvedSandbox
    package var layout: InstanceLayout
    package var uid: UInt32
    package var gid: UInt32

    package init(sandbox: ResolvedSandbox, layout: InstanceLayout, uid: UInt32, gid: UInt32) {
        self.sandbox = sandbox
        self.layout = layout
        self.uid = uid
        self.gid = gid
    }

    package func plan(_ operation: InstanceOperation, _ observed: ObservedState) -> Plan {
        switch operation {
        case .up: return plan(observed)
        case .reset: return reset(observed)
        case let .restore(name): return restore(name, observed)
        case .down, .destroy: return Self.removal(operation, instance: layout.instance, containers: observed.containers)
        }
    }

    /// What `up` does.
    package func plan(_ observed: ObservedState) -> Plan {
        var problems: [Plan.Problem] = []
        // Data an older version of the engine made is upgraded first, unless something else refuses the plan.
        var upgrades: [DataUpgrade] = []
        for service in sandbox.services {
            if case let .ready(stamp)? = observed.dataDirs[service.name], case let .success(upgrade)? = versionChange(service, stamp, observed) {
                upgrades.append(upgrade)
            }
        }
        if !upgrades.isEmpty {
            let plan = upgrade(upgrades, observed)
            if plan.problems.isEmpty { return plan }
        }
        let actions = imageActions(observed.images, registry: observed.registry) + serviceActions(observed, problems: &problems)
        return Plan(actions: actions, problems: problems)
    }

    /// The container a service gets: every setting, so the executor decides nothing.
    package func containerSpec(_ service: ResolvedService, port: Int) throws(SandboxError) -> ContainerSpec {
        let config = ContainerConfig(service: service, hostPort: port, dataDir: layout.dataDir(service.name).path, uid: uid, gid: gid)
        let labels = layout.labels(sandbox: sandbox.name).merging([
            Label.role: "service", Label.service: service.name, Label.configHash: config.hash, Label.imageHash: service.imageHash,
        ]) { $1 }
        var run = try DockerCommand.RunSpec.service(service, name: layout.containerName(sandbox: sandbox.name, service: service.name),
                                                    labels: labels, dataDir: layout.dataDir(service.name), uid: uid, gid: gid)
        run.publish = (service.publish, port, service.spec.port)
        run.restart = config.restart
        return ContainerSpec(service: service.name, port: port, pinned: service.hostPort != nil, run: run, configHash: config.hash)
    }

    /// Builds and base images, from one observation of the image tags. A missing base is made
    /// present only when an image built from it has to be built.
    /// With a registry, an image it holds at the recipe's hash is pulled instead of built (and needs no base).
    package func imageActions(_ present: [String: String?], registry: Registry.Contents? = nil, images: [ResolvedImage]? = nil) -> [Plan.Action] {
        let images = images ?? sandbox.images
        var builds: [Plan.Action] = []
        var bases: [String] = []
        for image in images where image.recipe.bootstrap == nil {
            var cause: String
            switch present[image.tag] {
            case nil: cause = "image missing"
            case let label?? where label == image.hash: continue
            default: cause = "image recipe changed"
            }
            if let registry, let reference = registryReference(image) {
                if registry.images.contains(image.tag) {
                    builds.append(.init(target: .image(image.tag), kind: .pullImage(image, reference: reference), cause: cause + "; the registry has it"))
                    continue
                }
                cause += registry.unreachable.map { "; the registry did not answer (\($0)), so it is built here" }
                    ?? "; not in the registry, so it is built here"
            }
            builds.append(.init(target: .image(image.tag), kind: .build(image), cause: cause))
            if case let .external(base)? = image.base, present[base] == nil, !bases.contains(base) { bases.append(base) }
        }
        return bases.map { base in
            let recipe = images.first { $0.tag == base && $0.recipe.bootstrap != nil }?.recipe
            return .init(target: .image(base), kind: .ensureBase(tag: base, bootstrap: recipe), cause: "base image missing")
        } + builds
    }

    /// Set by `up --registry`: where pulled images come from.
    package var registry: Registry?

    func registryReference(_ image: ResolvedImage) -> String? { registry?.image(tag: image.tag, hash: image.hash) }

    /// The update steps a golden copy applies once for every copy: those whose text does not depend on the instance.
    package static func sharedUpdates(_ service: ResolvedService) -> [ResolvedStep] {
        service.update.filter { !$0.perInstance }
    }

    func serviceActions(_ observed: ObservedState, problems: inout [Plan.Problem]) -> [Plan.Action] {
        var actions: [Plan.Action] = []
        for service in sandbox.services {
            actions += serviceActions(service, observed, problems: &problems)
        }
        // Containers of this instance whose service left the recipe: removed, their data kept.
        for (name, container) in observed.containers.sorted(by: { $0.key < $1.key }) where sandbox.service(name) == nil {
            actions.append(.init(target: .service(name), kind: .removeContainer(container, force: false),
                                 cause: "service no longer in the recipe (its data dir is kept)"))
        }
        return actions
    }

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
