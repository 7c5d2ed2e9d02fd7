import Foundation

/// The settings a service's container is created with; its hash, stored as a label, tells whether
/// an existing container still matches the recipe.
public struct ContainerConfig: Sendable, Equatable, Encodable {
    public var imageHash: String
    public var publish: String
    public var hostPort: Int
    public var containerPort: Int
    public var dataDir: String
    public var data: String
    public var uid: UInt32
    public var gid: UInt32
    public var start: String
    public var stopSignal: String
    public var stopTimeout: Int
    /// The readiness check the container runs itself (see `EntryScript`).
    public var ready: String
    /// Containers run with `--init`.
    public var initProcess = true

    public init(service: ResolvedService, hostPort: Int, dataDir: String, uid: UInt32, gid: UInt32) {
        imageHash = service.imageHash
        publish = service.publish
        self.hostPort = hostPort
        containerPort = service.spec.port
        self.dataDir = dataDir
        data = service.spec.data
        self.uid = uid
        self.gid = gid
        start = service.spec.start.raw
        stopSignal = service.spec.stopSignal
        stopTimeout = service.spec.stopTimeout
        ready = service.spec.ready.raw
    }

    public var hash: String { ContentHash.of(self) }
}

/// A pure function from (recipes, observed state) to the ordered actions that converge them.
public struct Planner: Sendable {
    public var sandbox: ResolvedSandbox
    public var layout: InstanceLayout
    public var uid: UInt32
    public var gid: UInt32

    public init(sandbox: ResolvedSandbox, layout: InstanceLayout, uid: UInt32, gid: UInt32) {
        self.sandbox = sandbox
        self.layout = layout
        self.uid = uid
        self.gid = gid
    }

    public func config(_ service: ResolvedService, port: Int) -> ContainerConfig {
        ContainerConfig(service: service, hostPort: port, dataDir: layout.dataDir(service.name).path, uid: uid, gid: gid)
    }

    public func plan(_ observed: ObservedState) -> Plan {
        var actions = imageActions(observed.images)
        var problems: [Plan.Problem] = []
        actions += serviceActions(observed, problems: &problems)
        return Plan(actions: actions, problems: problems)
    }

    /// Builds and base images, from one observation of the image tags. A missing base is made
    /// present only when an image built from it has to be built.
    public func imageActions(_ present: [String: String?]) -> [Plan.Action] {
        var builds: [Plan.Action] = []
        var bases: [String] = []
        for image in sandbox.images where image.recipe.bootstrap == nil {
            let cause: String
            switch present[image.tag] {
            case nil: cause = "image missing"
            case let label?? where label == image.hash: continue
            default: cause = "image recipe changed"
            }
            builds.append(.init(target: .image(image.tag), kind: .build, cause: cause))
            if case let .external(base)? = image.base, present[base] == nil, !bases.contains(base) { bases.append(base) }
        }
        return bases.map { .init(target: .image($0), kind: .ensureBase, cause: "base image missing") } + builds
    }

    func serviceActions(_ observed: ObservedState, problems: inout [Plan.Problem]) -> [Plan.Action] {
        var actions: [Plan.Action] = []

        for service in sandbox.services {
            let target = Plan.Action.Target.service(service.name)
            let data = observed.dataDirs[service.name] ?? .missing
            let container = observed.containers[service.name]
            var steps: [Plan.Action] = []

            if let port = observed.portConflicts[service.name] {
                problems.append(.init(.portTaken, "service \(service.name): port \(port) on \(service.publish) is already in use",
                                      fix: "free it (`ss -ltnp 'sport = :\(port)'` shows what holds it), or change 'port' for \(service.name) in \(sandbox.recipePath) (or remove it to pick a free port)"))
                continue
            }
            guard let port = observed.ports[service.name] else {
                problems.append(.init(.portTaken, "service \(service.name): no free host port found", fix: "free some ports in 20000-39999"))
                continue
            }

            var freshData = false
            switch data {
            case .foreign:
                problems.append(.init(.dataDirMismatch, "service \(service.name): \(layout.checkout.display(layout.dataDir(service.name).path)) exists but was not made by sandbox",
                                      fix: "move it away (nothing is deleted automatically), then `sandbox up` again"))
                continue
            case let .ready(stamp):
                if stamp.engine != service.spec.engine || stamp.version != service.spec.version {
                    problems.append(.init(.dataDirMismatch, "service \(service.name): its data dir was made by \(stamp.engine) \(stamp.version), but the recipe now runs \(service.spec.engine) \(service.spec.version)",
                                          fix: "migrate the data yourself (dump with the old recipe, restore with the new), or keep it with `sandbox snapshot save NAME` and start fresh with `sandbox destroy --delete-data --instance \(layout.instance)`"))
                    continue
                }
                if stamp.setupHash != service.setupHash {
                    steps.append(.init(target: target, kind: .notice("setup steps changed since this data dir was set up; they run only on a fresh data dir (`sandbox reset` to start over)"), cause: "setup steps changed"))
                }
            case .missing:
                freshData = true
            }

            let wanted = config(service, port: port.port)
            var create = false
            var containerCause = ""
            if let container {
                let cause: String?
                if freshData {
                    cause = "data dir missing"
                } else if container.configHash != wanted.hash {
                    if container.imageHash != service.imageHash { cause = "image recipe changed" }
                    else if let change = port.change { cause = change }
                    else { cause = "container settings changed" }
                } else {
                    cause = nil
                }
                if let cause {
                    steps.append(.init(target: target, kind: .removeContainer(id: container.id), cause: cause))
                    create = true
                    containerCause = cause
                } else if !container.running {
                    steps.append(.init(target: target, kind: .startContainer(id: container.id), cause: "container \(container.state)"))
                    steps.append(.init(target: target, kind: .waitReady, cause: "container started"))
                }
            } else {
                create = true
                containerCause = freshData ? "new instance" : "container missing"
            }
            if freshData {
                let golden = observed.golden.contains(service.name)
                steps.append(.init(target: target, kind: .prepareData(golden: golden),
                                   cause: golden ? "data dir missing; fresh copy of the set-up data" : "data dir missing; init and \(service.setup.count) setup step(s), kept as the golden copy"))
            }
            if create {
                steps.append(.init(target: target, kind: .createContainer(port: port.port), cause: containerCause))
                steps.append(.init(target: target, kind: .waitReady, cause: "container created"))
            }

            var applied: [String: String] = [:]
            if case let .ready(stamp) = data { applied = stamp.updates }
            // A fresh copy of the golden data comes with the update steps the golden copy already applied.
            let inGolden = freshData && observed.golden.contains(service.name) ? observed.goldenUpdates[service.name] ?? [] : []
            for step in service.update where applied[step.hash] == nil && !inGolden.contains(step.hash) {
                let changedBefore = applied.values.contains(step.title)
                steps.append(.init(target: target, kind: .runUpdate(step),
                                   cause: changedBefore ? "update step changed" : "update step is new"))
            }

            if !steps.contains(where: { $0.changes }) {
                steps.append(.init(target: target, kind: .nothing, cause: "up to date"))
            }
            actions += steps
        }

        // Containers of this instance whose service left the recipe: removed, their data kept.
        for (name, container) in observed.containers.sorted(by: { $0.key < $1.key }) where sandbox.service(name) == nil {
            actions.append(.init(target: .service(name), kind: .removeContainer(id: container.id),
                                 cause: "service no longer in the recipe (its data dir is kept)"))
        }
        return actions
    }
}
