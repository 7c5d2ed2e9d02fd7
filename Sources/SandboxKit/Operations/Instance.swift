import Foundation

/// One running copy of a sandbox recipe: the entry point for every command that acts on an instance.
public struct Instance: Sendable {
    public var docker: Docker
    public var layout: InstanceLayout
    public var sandbox: ResolvedSandbox
    public var planner: Planner
    public var images: any ImageProviding

    public init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox, images: any ImageProviding,
                uid: UInt32 = getuid(), gid: UInt32 = getgid()) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.images = images
        planner = Planner(sandbox: sandbox, layout: layout, uid: uid, gid: gid)
    }

    public var observer: Observer { Observer(docker: docker, layout: layout) }

    /// What `up` would do now.
    public func plan() async throws(SandboxError) -> Plan {
        try await planWithState().0
    }

    func planWithState() async throws(SandboxError) -> (Plan, ObservedState) {
        let observed = try await observer.observe(sandbox)
        return (planner.plan(observed), observed)
    }

    /// Install or update: converge to the recipes, keeping data. Holds the instance lock throughout.
    /// Returns the plan it carried out and, when that changed nothing, the containers it observed
    /// (so callers can report status without asking the engine again).
    @discardableResult
    /// With `wait` false, another command holding the instance is an `instance-busy` error instead of a wait.
    public func up(reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> (plan: Plan, unchanged: [String: ObservedContainer]?) {
        try InstanceLayout.validate(instance: layout.instance)
        let lock: FileLock
        if wait {
            lock = try FileLock(layout.lockFile) {
                reporter.report(.message("waiting for another `sandbox` command on instance '\(layout.instance)' to finish"))
            }
        } else {
            guard let taken = try FileLock.attempt(layout.lockFile) else {
                throw SandboxError(.instanceBusy, "another `sandbox` command is working on instance '\(layout.instance)'",
                                   fix: "wait for it to finish, drop --no-wait to queue behind it, or use another --instance")
            }
            lock = taken
        }
        defer { withExtendedLifetime(lock) {} }
        let (plan, observed) = try await planWithState()
        if !plan.problems.isEmpty {
            let problems = plan.problems
            throw SandboxError(problems[0].code, problems.count == 1 ? problems[0].message
                               : "cannot bring the instance up:\n" + problems.map { "  - \($0.message)" }.joined(separator: "\n"),
                               fix: problems.count == 1 ? problems[0].fix : problems.map(\.fix).joined(separator: "; "))
        }
        let executor = Executor(docker: docker, layout: layout, sandbox: sandbox, planner: planner, images: images, reporter: reporter)
        try await executor.apply(plan)
        return (plan, plan.isNoOp ? observed.containers : nil)
    }

    /// Builds (or confirms) every image the sandbox needs; returns the tags built.
    public func build(reporter: any ProgressReporter) async throws(SandboxError) -> [String] {
        var tags: [String] = []
        for image in sandbox.images {
            tags.append(image.tag)
            if case let .external(base)? = image.base, !tags.contains(base) { tags.append(base) }
        }
        let actions = planner.imageActions(try await observer.images(tags))
        let executor = Executor(docker: docker, layout: layout, sandbox: sandbox, planner: planner, images: images, reporter: reporter)
        try await executor.run(actions)
        return actions.compactMap { if case let .image(tag) = $0.target { return tag } else { return nil } }
    }

    /// Stops and removes this instance's containers; data stays.
    public func down() async throws(SandboxError) -> [String] {
        let lock = try FileLock(layout.lockFile)
        defer { withExtendedLifetime(lock) {} }
        let containers = try await observer.containers()
        guard !containers.isEmpty else { return [] }
        let ids = containers.values.map(\.id)
        let timeout = sandbox.services.map(\.spec.stopTimeout).max() ?? 30
        try await docker.run(.stop(ids, timeout: timeout))
        try await docker.run(.remove(ids))
        return containers.keys.sorted()
    }

    /// Removes containers and, only when asked, the instance's data dirs, env and state.
    public func destroy(deleteData: Bool) async throws(SandboxError) {
        _ = try await down()
        guard deleteData else { return }
        let lock = try FileLock(layout.lockFile)
        defer { withExtendedLifetime(lock) {} }
        for service in sandbox.services {
            try Self.remove(layout.dataDir(service.name))
            try Self.remove(layout.staging(service.name))
        }
        for file in [layout.envFile, layout.stateFile, layout.logs] { try Self.remove(file) }
        // Nothing of the instance is left but its lock (snapshots are kept): remove the folder too.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        if left.allSatisfy({ $0 == layout.lockFile.lastPathComponent }) { try? FileManager.default.removeItem(at: layout.root) }
    }

    static func remove(_ url: URL) throws(SandboxError) {
        guard FileSystem.exists(url) else { return }
        do { try FileManager.default.removeItem(at: url) } catch {
            throw SandboxError(.dataDirNotWritable, "cannot delete \(url.path): \(error.localizedDescription)",
                               fix: "files there belong to another user; remove them with `sudo rm -rf \(url.path)`")
        }
    }

    /// Each service's state and connection URL.
    /// Passwords in URLs are shown as `***` unless `secrets` is set.
    public func status(observed: [String: ObservedContainer]? = nil, secrets: Bool = false) async throws(SandboxError) -> [ServiceStatus] {
        let containers: [String: ObservedContainer]
        if let observed { containers = observed } else { containers = try await observer.containers() }
        let state = InstanceState.read(layout)
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: state?.ports ?? [:], stamps: stamps)
        return sandbox.services.map { service in
            let c = containers[service.name]
            let state = c.map { $0.running ? "running" : $0.state } ?? (stamps[service.name] == nil ? "absent" : "stopped")
            return ServiceStatus(service: service.name, state: state, port: rendering.ports[service.name],
                                 url: c?.running == true ? rendering.url(service).map { secrets ? $0 : Self.mask($0, stamps[service.name]?.password) } : nil,
                                 container: c?.name,
                                 image: service.imageTag, dataDir: layout.checkout.display(layout.dataDir(service.name).path))
        }
    }

    static func mask(_ url: String, _ password: String?) -> String {
        guard let password, !password.isEmpty else { return url }
        return url.replacingOccurrences(of: ":\(password)@", with: ":***@")
    }

    /// The exported variables, as written to `.sandbox/<instance>/env`.
    public func environment() throws(SandboxError) -> [(String, String)] {
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        guard let state = InstanceState.read(layout) else {
            throw SandboxError(.notRunning, "instance '\(layout.instance)' has not been brought up yet", fix: "run `sandbox up --instance \(layout.instance)`")
        }
        return try Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports, stamps: stamps).env()
    }

    /// The running container of a service, or an error that says how to start it.
    public func runningContainer(_ service: String) async throws(SandboxError) -> (ResolvedService, ObservedContainer) {
        guard let resolved = sandbox.service(service) else {
            let names = sandbox.services.map(\.name)
            throw SandboxError(.unknownService, "sandbox \(sandbox.name) has no service '\(service)'\(didYouMean(service, among: names))",
                               fix: "use one of: \(names.joined(separator: ", "))")
        }
        guard let container = try await observer.containers()[service], container.running else {
            throw SandboxError(.notRunning, "service \(service) of instance '\(layout.instance)' is not running",
                               fix: "run `sandbox up\(layout.instance == "dev" ? "" : " --instance \(layout.instance)")` first")
        }
        return (resolved, container)
    }
}

/// One line of `sandbox status`.
public struct ServiceStatus: Sendable, Equatable, Codable {
    public var service: String
    public var state: String
    public var port: Int?
    public var url: String?
    public var container: String?
    public var image: String
    public var dataDir: String
}
