import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

/// A pure function from (recipes, observed state, operation) to the graph of actions that carries the operation out.
package struct Planner: Sendable {
    package var sandbox: ResolvedSandbox
    package var layout: InstanceLayout
    package var uid: UInt32
    package var gid: UInt32
    /// Set by `up --registry`: where pulled images come from.
    package var registry: Registry?
    /// Set by `up --repair`: state files that cannot be read are set aside and recorded anew, instead of refusing.
    package var repair = false
    /// Set by `up --live` (true) or `--no-live` (false): whether services with a `live` folder mount it. Nil keeps
    /// what the instance had.
    package var live: Bool?

    /// Whether this plan mounts live source folders.
    func isLive(_ observed: ObservedState) -> Bool { live ?? observed.saved?.live ?? false }

    /// The image hash a service's container is made from and compared with: for an instance that mounts the service's
    /// live folder, the hash of all but that folder (its edits ask for a restart, not a rebuild).
    func imageHash(_ service: ResolvedService, _ observed: ObservedState) -> String {
        guard isLive(observed), service.live != nil, let live = sandbox.image(service.imageTag)?.liveHash else { return service.imageHash }
        return live
    }

    /// The images present, as current as this instance needs them: with `--live`, an image that differs from the recipe only
    /// in a live folder's files is taken as current.
    func currentImages(_ observed: ObservedState) -> [String: String?] {
        var present = observed.images
        guard isLive(observed) else { return present }
        for image in sandbox.images where image.liveHash != nil && observed.imageLiveHashes[image.tag] == image.liveHash {
            present[image.tag] = .some(image.hash)
        }
        return present
    }

    package init(sandbox: ResolvedSandbox, layout: InstanceLayout, uid: UInt32, gid: UInt32) {
        self.sandbox = sandbox
        self.layout = layout
        self.uid = uid
        self.gid = gid
    }

    package func plan(_ operation: InstanceOperation, _ observed: ObservedState) -> Plan {
        // A state file that cannot be read stops every change but a removal, naming it; `up --repair` records it anew.
        if !observed.unusableVariables.isEmpty, operation.needsRecipes {
            return Plan(actions: [], problems: observed.unusableVariables.map {
                .init(.invalidRecipes, "the variable \($0) holds a NUL character, which no command can carry, and the recipes use it ({env.\($0)})",
                      fix: "remove the NUL character from \($0) (or unset it to use the recipe's default), then run the command again")
            })
        }
        switch operation {
        case .down, .destroy, .deleteSnapshot: break
        case .up where repair: break
        default:
            if !observed.damaged.isEmpty { return Plan(actions: [], problems: observed.damaged.map { .init(.stateDamaged, $0.message, fix: $0.fix) }) }
        }
        switch operation {
        case .up: return up(observed)
        case .reset: return reset(observed)
        case let .restore(name): return restore(name, observed)
        case .down, .destroy: return Self.removal(operation, layout: layout, observed)
        case let .saveSnapshot(name): return saveSnapshot(name, observed)
        case let .deleteSnapshot(name): return Self.deleteSnapshot(name, instance: layout.instance, observed)
        case let .restart(services): return restart(services, observed)
        }
    }

    /// What `up` does.
    package func up(_ observed: ObservedState) -> Plan {
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
        var b = PlanBuilder()
        var problems: [Plan.Problem] = []
        let start = begin(observed, &b)
        let images = addImages(imageActions(currentImages(observed), registry: observed.registry, manifests: observed.imageManifests),
                               after: start, &b)
        addServices(observed, after: start, images: images, &b, problems: &problems)
        finish(observed, up: true, &b)
        return b.plan(problems: problems, ports: ports(observed))
    }

    /// The host ports as planned.
    func ports(_ observed: ObservedState) -> [String: Int] { observed.ports.mapValues(\.port) }

    // MARK: - The parts every plan is made of

    /// What comes before anything else: whatever a killed command left, finished or undone, and for a new instance the
    /// record that it is this sandbox's (so a later command of another sandbox is refused). Returns what comes next waits for.
    func begin(_ observed: ObservedState, _ b: inout PlanBuilder) -> [Int] {
        var last = Self.recovery(observed, instance: layout.instance, &b)
        for damage in observed.damaged {
            last = [b.add(.init(target: .instance(layout.instance), kind: .setAside(damage.file),
                                cause: "--repair: \(damage.file) cannot be read; set aside as \(damage.file).damaged and recorded anew"), after: last)]
        }
        if observed.saved == nil {
            var state = InstanceState(sandbox: sandbox.name)
            state.engine = observed.engine
            state.engineID = observed.engineID
            last = [b.add(.init(target: .instance(layout.instance), kind: .writeState(state),
                                cause: "a new instance: recorded as sandbox \(sandbox.name)'s"), after: last)]
        }
        return last
    }

    /// Finishes or undoes what a killed command left, in the order the next command must: the private servers of an
    /// upgrade first (they write into folders deleted next), a journalled deletion, a committed switch, then leftovers.
    package static func recovery(_ observed: ObservedState, instance: String, _ b: inout PlanBuilder) -> [Int] {
        let left = observed.leftovers
        var last: [Int] = []
        let target = Plan.Action.Target.instance(instance)
        if !left.upgradeServers.isEmpty {
            last = [b.add(.init(target: target, kind: .removeContainers(left.upgradeServers),
                                cause: "left by an interrupted command (an upgrade's servers, a container set aside for its replacement)"),
                          after: last)]
        }
        if left.deletion {
            last = [b.add(.init(target: target, kind: .finishDeletion, cause: "an interrupted `destroy --delete-data`: its deletion is finished"),
                          after: last)]
        }
        if let services = left.switched {
            last = [b.add(.init(target: target, kind: .finishSwitch(services: services),
                                cause: "an interrupted command had committed this data switch: it is finished, the replaced data deleted"),
                          after: last)]
        }
        if !left.stale.isEmpty {
            last = [b.add(.init(target: target, kind: .discard(left.stale), cause: "left by an interrupted command"), after: last)]
        }
        return last
    }

    /// Adds image actions, each after the base it builds on; returns the number of the action that makes each tag present.
    @discardableResult
    package func addImages(_ actions: [Plan.Action], after: [Int], _ b: inout PlanBuilder) -> [String: Int] {
        var made: [String: Int] = [:]
        for action in actions {
            var waits = after
            switch action.kind {
            case let .build(image):
                switch image.base {
                case let .recipe(tag)?, let .external(tag)?: if let base = made[tag] { waits.append(base) }
                case nil: break
                }
                made[image.tag] = b.add(action, after: waits)
            case let .pullImage(image, _): made[image.tag] = b.add(action, after: waits)
            case let .ensureBase(tag, _): made[tag] = b.add(action, after: waits)
            default: b.add(action, after: waits)
            }
        }
        return made
    }

    /// Each service's chain of actions, after `after`, its image and the services it depends on (ready, their update
    /// steps applied); the instance's network first when a container is to run; then containers of services the recipe
    /// no longer has. Returns the ends of every chain.
    @discardableResult
    func addServices(_ observed: ObservedState, after: [Int], images: [String: Int], _ b: inout PlanBuilder,
                     problems: inout [Plan.Problem]) -> [Int] {
        let chains = sandbox.services.map { (service: $0, chain: serviceActions($0, observed, problems: &problems)) }
        var start = after
        let runs = chains.contains { $0.chain.contains { action in
            switch action.kind {
            case .createContainer, .startContainer, .restartContainer: return true
            default: return false
            }
        } }
        if runs {
            start = [b.add(.init(target: .instance(layout.instance), kind: .ensureNetwork(name: layout.network(sandbox: sandbox.name)),
                                 cause: "the instance's own network: its services find each other on it by name"), after: after)]
        }
        var ends: [String: [Int]] = [:]
        for (service, chain) in chains {
            // Services come in dependency order (the resolver's), so every dependency's chain is already in.
            let waits = start + [images[service.imageTag]].compactMap { $0 } + service.dependsOn.flatMap { ends[$0] ?? [] }
            ends[service.name] = b.chain(chain, after: waits)
        }
        // Containers of this instance whose service left the recipe: removed, their data kept.
        for (name, container) in observed.containers.sorted(by: { $0.key < $1.key }) where sandbox.service(name) == nil {
            ends[name] = [b.add(.init(target: .service(name), kind: .removeContainer(container, force: false),
                                      cause: "service no longer in the recipe (its data dir is kept)"), after: after)]
        }
        return ends.values.flatMap { $0 }.sorted()
    }

    /// After everything else succeeded: the instance's record (ports, and after an `up` the commit it runs) and its env
    /// file, each only when it changes.
    func finish(_ observed: ObservedState, up: Bool = false, _ b: inout PlanBuilder) {
        var state = observed.saved ?? InstanceState(sandbox: sandbox.name)
        if observed.saved == nil {
            state.engine = observed.engine
            state.engineID = observed.engineID
        }
        state.sandbox = sandbox.name
        state.ports.merge(ports(observed)) { $1 }
        if up {
            state.commit = observed.commit
            state.live = isLive(observed) ? true : nil
        }
        if state != observed.saved {
            let what = observed.saved?.commit != observed.commit && observed.saved != nil ? "the checkout's commit" : "ports and commit"
            b.add(.init(target: .instance(layout.instance), kind: .writeState(state), cause: "records \(what) once everything else is done"),
                  after: b.all)
        }
        // The variables change when the ports do (then the env file on disk is not current) or the credentials do.
        let credentials = b.actions.contains { action in
            switch action.kind {
            case .setCredentials, .copyGolden, .pullGolden, .switchData, .finishSwitch, .finishDeletion, .upgradeData: return true
            default: return false
            }
        }
        if credentials || !observed.envCurrent {
            b.add(.init(target: .instance(layout.instance), kind: .writeEnv,
                        cause: credentials ? "the variables, from the data's credentials and the ports" : "the env file is out of date"),
                  after: b.all)
        }
    }

    /// The container a service gets: every setting, so the executor decides nothing.
    package func containerSpec(_ service: ResolvedService, port: Int, live: Bool = false, imageHash: String? = nil) throws(SandboxError)
        -> ContainerSpec {
        let imageHash = imageHash ?? service.imageHash
        var mounts: [DockerCommand.Mount] = [.init(layout.runDir(service.name).path, at: ServiceSpec.runFolder)]
        if let data = service.spec.data { mounts.insert(.init(layout.dataDir(service.name).path, at: data), at: 0) }
        if live, let folder = service.live {
            mounts.append(.init(layout.checkout.root.appendingPathComponent(folder.path).path, at: folder.mount, readOnly: !folder.writable))
        }
        let network = layout.network(sandbox: sandbox.name)
        var config = ContainerConfig(service: service, hostPort: port, mounts: mounts, network: network, uid: uid, gid: gid)
        config.imageHash = imageHash
        let labels = layout.labels(sandbox: sandbox.name).merging([
            Label.role: "service", Label.service: service.name, Label.configHash: config.hash, Label.imageHash: imageHash,
        ]) { $1 }
        var run = try DockerCommand.RunSpec.service(service, name: layout.containerName(sandbox: sandbox.name, service: service.name),
                                                    labels: labels, mounts: mounts, uid: uid, gid: gid)
        run.publish = (service.publish, port, service.spec.port)
        run.network = network
        run.networkAliases = [service.name]
        run.restart = config.restart
        return ContainerSpec(service: service.name, port: port, pinned: service.hostPort != nil, run: run, configHash: config.hash)
    }

    /// Builds and base images, from one observation of the image tags. A missing base is made
    /// present only when an image built from it has to be built.
    /// With a registry, an image it holds at the recipe's hash is pulled instead of built (and needs no base).
    package func imageActions(_ present: [String: String?], registry: Registry.Contents? = nil, images: [ResolvedImage]? = nil,
                              manifests: [String: [String: String]] = [:]) -> [Plan.Action] {
        let images = images ?? sandbox.images
        var builds: [Plan.Action] = []
        var bases: [String] = []
        for image in images where image.recipe.bootstrap == nil {
            var cause: String
            switch present[image.tag] {
            case nil: cause = "image missing"
            case let label?? where label == image.hash: continue
            default:
                // Built from the checkout: the file that changed, when the last build left its list.
                let built = present[image.tag].flatMap { $0 }.flatMap { manifests[$0] }
                cause = image.context.flatMap { context in
                    built.flatMap { BuildContext.change(from: $0, to: context.files) }.map { "\(context.display)/\($0)" }
                } ?? "image recipe changed"
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

    func registryReference(_ image: ResolvedImage) -> String? { registry?.image(tag: image.tag, hash: image.hash) }

    /// The update steps a golden copy applies once for every copy: those whose text does not depend on the instance.
    package static func sharedUpdates(_ service: ResolvedService) -> [ResolvedStep] {
        service.update.filter { !$0.perInstance }
    }
}
