import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput
import SandboxApply

/// One running copy of a sandbox recipe: the entry point for every command that acts on an instance.
package struct Instance: Sendable {
    package var docker: Docker
    package var layout: InstanceLayout
    package var sandbox: ResolvedSandbox
    package var planner: Planner
    package var images: any ImageProviding
    /// With `--registry`: images and golden data the registry has are pulled instead of built and initialised.
    package var registry: Registry? { didSet { planner.registry = registry } }

    package init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox, images: any ImageProviding,
                uid: UInt32 = getuid(), gid: UInt32 = getgid()) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.images = images
        planner = Planner(sandbox: sandbox, layout: layout, uid: uid, gid: gid)
    }

    package var observer: Observer { Observer(docker: docker, layout: layout) }

    func executor(_ reporter: any ProgressReporter) -> Executor {
        Executor(docker: docker, layout: layout, sandbox: sandbox, images: images, reporter: reporter, uid: planner.uid, gid: planner.gid)
    }

    /// What `operation` would do now; changes nothing. Takes no lock: when another command is working on the instance,
    /// the plan says so first (what it is doing shows as leftovers, and it may be done by the time this plan runs).
    package func plan(_ operation: InstanceOperation = .up) async throws(SandboxError) -> Plan {
        let activity = layout.activity()
        var observed = try await observer.observe(sandbox, for: operation, registry: registry)
        observed.interrupted = activity.interrupted
        var plan = planner.plan(operation, observed)
        if activity.busy {
            var notice = Plan.Action(target: .instance(layout.instance),
                                     kind: .notice("another `sandbox` command is working on this instance now; this plan shows the instance as it is"),
                                     cause: "another `sandbox` command is working on this instance now: what it is doing shows as leftovers")
            notice.id = 1
            plan.actions.insert(notice, at: 0)
            plan.actions = plan.actions.enumerated().map { index, action in
                guard index > 0 else { return action }
                var shifted = action
                shifted.id = index + 1
                shifted.after = action.after.map { $0 + 1 }
                shifted.onFailureOf = action.onFailureOf.map { $0 + 1 }
                return shifted
            }
        }
        return plan
    }

    /// Carries out `operation` under the instance lock, from the first step to the last: observe, plan, apply.
    /// When the world changed between planning and applying (a picked port taken meanwhile), it plans again.
    /// Returns the plan carried out and, when that changed nothing, the containers observed (for status without
    /// asking the engine again). With `wait` false, another command holding the instance is `instance-busy`.
    @discardableResult
    package func perform(_ operation: InstanceOperation, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError)
        -> (plan: Plan, unchanged: [String: ObservedContainer]?) {
        let lock = try await layout.lock(wait: wait, reporter: reporter)
        defer { withExtendedLifetime(lock) {} }
        try FileSystem.ensureDirectory(layout.root)
        try FileSystem.checkWritable(layout.root)
        try await layout.checkEngine(docker)
        let executor = executor(reporter)
        var attempts = 0
        while true {
            var observed = try await observer.observe(sandbox, for: operation, registry: registry)
            observed.interrupted = lock.interrupted && attempts == 0
            let plan = planner.plan(operation, observed)
            do {
                try await executor.apply(plan)
                return (plan, plan.isNoOp ? observed.containers : nil)
            } catch where error.replan && attempts < 3 {
                attempts += 1
                reporter.report(.message("\(error.message); planning again"))
            }
        }
    }

    /// Install or update: converge to the recipes, keeping data.
    @discardableResult
    package func up(reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> (plan: Plan, unchanged: [String: ObservedContainer]?) {
        try await perform(.up, reporter: reporter, wait: wait)
    }

    /// Builds (or confirms) every image the sandbox needs; returns the tags built.
    package func build(reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> [String] {
        // Under the instance's lock like every other change made through it: a build never runs beside its `up`.
        let lock = try await layout.lock(wait: wait, reporter: reporter)
        defer { withExtendedLifetime(lock) {} }
        var b = PlanBuilder()
        planner.addImages(planner.imageActions(try await observer.images(sandbox.imageTags)), after: [], &b)
        let plan = b.plan()
        try await executor(reporter).apply(plan)
        return plan.actions.compactMap { if case let .build(image) = $0.kind { return image.tag } else { return nil } }
    }

    /// Each service's state, connection URL and connection forms.
    /// Passwords in them are shown as `***` unless `secrets` is set.
    package func status(observed: [String: ObservedContainer]? = nil, secrets: Bool = false) async throws(SandboxError) -> [ServiceStatus] {
        let containers: [String: ObservedContainer]
        if let observed { containers = observed } else { containers = try await observer.containers() }
        let state = try InstanceState.load(layout)
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: state?.ports ?? [:], stamps: stamps)
        return sandbox.services.map { service in
            let c = containers[service.name]
            let made = service.hasData ? stamps[service.name] != nil : state != nil
            // A container that runs on a data dir that is gone (or lost its stamp) is no working service.
            let lost = service.hasData && stamps[service.name] == nil && c != nil
            let state = lost ? "data-missing" : c.map { $0.running ? "running" : $0.state } ?? (made ? "stopped" : "absent")
            let running = c?.running == true && !lost
            return ServiceStatus(service: service.name, state: state, port: rendering.ports[service.name],
                                 url: running ? rendering.url(service, masked: !secrets) : nil,
                                 connections: running ? rendering.connections(service, masked: !secrets) : nil,
                                 container: c?.name,
                                 image: service.imageTag, dataDir: layout.checkout.display(layout.dataDir(service.name).path),
                                 leases: service.leases == nil ? nil : LeaseStore(folder: layout.leases(service.name)).counts())
        }
    }

    /// The exported variables, as written to `.sandbox/<instance>/env`.
    package func environment() throws(SandboxError) -> [(String, String)] {
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        guard let state = try InstanceState.load(layout) else {
            throw SandboxError(.notRunning, "instance '\(layout.instance)' has not been brought up yet", fix: "run `\(Messages.up(layout.instance))`")
        }
        return try Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports, stamps: stamps).env()
    }

    /// The running container of a service, or an error that says how to start it.
    package func runningContainer(_ service: String) async throws(SandboxError) -> (ResolvedService, ObservedContainer) {
        let resolved = try self.service(named: service)
        guard let container = try await observer.containers()[service], container.running else {
            throw SandboxError(.notRunning, "service \(service) of instance '\(layout.instance)' is not running",
                               fix: "run `\(Messages.up(layout.instance))` first")
        }
        return (resolved, container)
    }
}

extension Instance {
    /// The service of that name, or an error that lists the names there are.
    package func service(named service: String) throws(SandboxError) -> ResolvedService {
        guard let resolved = sandbox.service(service) else {
            let names = sandbox.services.map(\.name)
            throw SandboxError(.unknownService, "sandbox \(sandbox.name) has no service '\(service)'\(didYouMean(service, among: names))",
                               fix: "use one of: \(names.joined(separator: ", "))")
        }
        return resolved
    }
}

/// One line of `sandbox status`.
package struct ServiceStatus: Sendable, Equatable, Codable {
    package var service: String
    package var state: String
    package var port: Int?
    package var url: String?
    /// The image recipe's `connect` forms, rendered as `url` is; nil while the service is not running.
    package var connections: [ConnectionForm]?
    package var container: String?
    package var image: String
    package var dataDir: String
    /// For a service that lends databases: its copies ready and lent.
    package var leases: LeaseCounts? = nil
}
