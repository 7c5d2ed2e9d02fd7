import Foundation
import Subprocess
import Synchronization

/// Carries out a plan, one action at a time, and makes no decisions of its own.
/// Each action either completes or leaves nothing a later `up` would mistake for done.
public struct Executor: Sendable {
    public var docker: Docker
    public var layout: InstanceLayout
    public var sandbox: ResolvedSandbox
    public var planner: Planner
    public var images: any ImageProviding
    public var reporter: any ProgressReporter
    /// How long a service may take to answer its readiness check.

    public init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox, planner: Planner,
                images: any ImageProviding, reporter: any ProgressReporter) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.planner = planner
        self.images = images
        self.reporter = reporter
    }

    public func apply(_ plan: Plan) async throws(SandboxError) {
        if !plan.problems.isEmpty {
            throw SandboxError(plan.problems[0].code, plan.problems.map(\.message).joined(separator: "\n"))
        }
        try FileSystem.ensureDirectory(layout.root)
        try FileSystem.checkWritable(layout.root)
        let state = try await run(plan.actions)
        try writeEnv(state)
    }

    /// Performs the image actions in order, then each service's actions in order, services side by side.
    /// Stops at the first failure of each chain; when several services fail, every failure is reported.
    @discardableResult
    public func run(_ actions: [Plan.Action]) async throws(SandboxError) -> InstanceState {
        let state = SharedState(InstanceState.read(layout) ?? InstanceState(sandbox: sandbox.name))
        reporter.report(.planned(Plan(actions: actions, problems: [])))
        let imageActions = actions.filter { if case .image = $0.target { return true } else { return false } }
        for action in imageActions { try await timed(action, state: state) }
        var chains: [[Plan.Action]] = []
        for action in actions where !imageActions.contains(action) {
            if let index = chains.firstIndex(where: { $0.first?.target == action.target }) { chains[index].append(action) }
            else { chains.append([action]) }
        }
        var failures = await withTaskGroup(of: SandboxError?.self) { group in
            for chain in chains {
                group.addTask {
                    do {
                        for action in chain { try await timed(action, state: state) }
                        return nil
                    } catch {
                        return error as? SandboxError ?? SandboxError(.io, "\(error)")
                    }
                }
            }
            var failures: [SandboxError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        // The same cause (an engine gone away) reported by every service is one failure.
        var distinct: [SandboxError] = []
        for f in failures where !distinct.contains(where: { $0.message == f.message }) { distinct.append(f) }
        failures = distinct
        if failures.count == 1 { throw failures[0] }
        if failures.count > 1 {
            throw SandboxError(failures[0].code, "\(failures.count) services failed:\n" + failures.map { "  - \($0.message)" }.joined(separator: "\n"),
                               fix: failures.compactMap(\.fix).first,
                               detail: failures.compactMap { $0.detail }.joined(separator: "\n"))
        }
        return state.value.withLock { $0 }
    }

    func timed(_ action: Plan.Action, state: SharedState) async throws(SandboxError) {
        reporter.report(.started(action))
        let clock = ContinuousClock()
        let began = clock.now
        do {
            try await perform(action, state: state)
        } catch {
            reporter.report(.failed(action, error))
            throw error
        }
        let elapsed = clock.now - began
        reporter.report(.finished(action, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }

    func perform(_ action: Plan.Action, state: SharedState) async throws(SandboxError) {
        let log = LogFile(layout.logs.appendingPathComponent("\(action.targetText.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "-")).log"))
        let line: @Sendable (String) -> Void = { text in
            log.append(text)
            reporter.report(.output(action, text))
        }
        switch (action.target, action.kind) {
        case let (.image(tag), .ensureBase):
            let recipe = sandbox.images.first { $0.tag == tag && $0.recipe.bootstrap != nil }?.recipe
            try await images.ensureBase(tag, recipe: recipe, line: line)
        case let (.image(tag), .build):
            guard let image = sandbox.image(tag) else { return }
            try await images.build(image, line: line)
        case let (.service(name), .removeContainer(id)):
            try await docker.run(.stop([id], timeout: sandbox.service(name)?.spec.stopTimeout))
            try await docker.run(.remove([id]))
        case let (.service(name), .prepareData):
            guard let service = sandbox.service(name) else { return }
            try await DataPreparer(docker: docker, layout: layout, sandbox: sandbox, planner: planner, line: line)
                .prepare(service)
        case let (.service(name), .startContainer(id)):
            Readiness.clear(layout.dataDir(name))
            try await docker.run(.start([id]))
        case let (.service(name), .createContainer(port)):
            guard let service = sandbox.service(name) else { return }
            let used = try await createContainer(service, port: port, log: line)
            // Updated and written under the lock, so a service finishing later never writes an older state.
            try state.value.withLock { (s: inout InstanceState) throws(SandboxError) in
                s.ports[name] = used
                try s.write(layout)
            }
        case let (.service(name), .waitReady):
            guard let service = sandbox.service(name) else { return }
            try await Readiness(docker: docker).wait(container: layout.containerName(sandbox: sandbox.name, service: name),
                                                     service: service, dataDir: layout.dataDir(name))
        case let (.service(name), .runUpdate(step)):
            guard let service = sandbox.service(name) else { return }
            try await runUpdate(step, service: service, state: state.value.withLock { $0 }, line: line)
        default:
            break
        }
    }

    /// Labels of a service container: the instance's, plus what lets the next `up` compare it with the recipe.
    func labels(_ service: ResolvedService, config: ContainerConfig) -> [String: String] {
        layout.labels(sandbox: sandbox.name).merging([
            Label.role: "service", Label.service: service.name,
            Label.configHash: config.hash, Label.imageHash: service.imageHash,
        ]) { $1 }
    }

    func createContainer(_ service: ResolvedService, port: Int, log: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Int {
        let name = layout.containerName(sandbox: sandbox.name, service: service.name)
        let stamp = DataStamp.read(from: layout.dataDir(service.name))
        var port = port
        var attempts = 0
        while true {
            attempts += 1
            let config = planner.config(service, port: port)
            var spec = try DockerCommand.RunSpec.service(service, name: name, labels: labels(service, config: config),
                                                         dataDir: layout.dataDir(service.name), stamp: stamp, uid: planner.uid, gid: planner.gid)
            spec.publish = (service.publish, port, service.spec.port)
            let command = DockerCommand.run(spec)
            Readiness.clear(layout.dataDir(service.name))
            let out = try await docker.run(command, check: false)
            if out.status == 0 { return port }
            let portProblem = out.stderr.contains("port is already allocated") || out.stderr.contains("address already in use")
            // The container may exist in "created" state after a failed start; it is ours (by name and labels).
            _ = try? await docker.run(.remove([name], force: true), check: false)
            guard portProblem else { throw docker.failure(command, out) }
            if service.hostPort != nil || attempts >= 5 {
                throw SandboxError(.portTaken, "port \(port) on \(service.publish) for service \(service.name) is already in use",
                                   fix: service.hostPort != nil
                                       ? "stop what uses it (`ss -ltnp 'sport = :\(port)'` shows it), or change 'port' for \(service.name) in \(sandbox.recipePath)"
                                       : "free some ports in 20000-39999 and run `sandbox up` again")
            }
            log("port \(port) was taken in the meantime; trying another")
            guard let next = Ports.pick(seed: "\(layout.checkout.id)/\(layout.instance)/\(service.name)/\(attempts)", address: service.publish, avoid: [port]) else {
                throw SandboxError(.portTaken, "no free port for service \(service.name)", fix: "free some ports in 20000-39999")
            }
            port = next
        }
    }

    func runUpdate(_ step: ResolvedStep, service: ResolvedService, state: InstanceState, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let dataDir = layout.dataDir(service.name)
        guard var stamp = DataStamp.read(from: dataDir) else {
            throw SandboxError(.io, "the data dir of \(service.name) lost its stamp", fix: "run `sandbox up` again")
        }
        // Made just now from a new golden copy that applied it already: a step recorded as done never runs twice.
        if stamp.updates[step.hash] != nil {
            line("already applied in the golden copy")
            return
        }
        let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports, stamps: [service.name: stamp])
        let script = try rendering.step(step, service: service)
        let container = layout.containerName(sandbox: sandbox.name, service: service.name)
        try await StepRunner(docker: docker).run(step, script: script, container: container, service: service, recipe: sandbox.recipePath, line: line)
        stamp.updates[step.hash] = step.title
        try stamp.write(to: dataDir)
    }

    func writeEnv(_ state: InstanceState) throws(SandboxError) {
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports, stamps: stamps)
        let text = Rendering.envFile(try rendering.env())
        if FileManager.default.contents(atPath: layout.envFile.path) != Data(text.utf8) {
            try FileSystem.writeAtomically(Data(text.utf8), to: layout.envFile, mode: 0o600)
        }
    }
}

extension DockerCommand.RunSpec {
    /// A service's container, as both instances and the golden copy run it: as the caller's uid and gid, the data dir
    /// mounted, the readiness check handed to the entrypoint, a tiny init as PID 1, the recipe's stop settings.
    static func service(_ service: ResolvedService, name: String, labels: [String: String], dataDir: URL, stamp: DataStamp?,
                        uid: UInt32, gid: UInt32) throws(SandboxError) -> Self {
        var spec = Self(name: name, image: service.imageTag, labels: labels)
        spec.environment = ["SANDBOX_UID": String(uid), "SANDBOX_GID": String(gid)]
            .merging(try Readiness.environment(service, stamp: stamp)) { $1 }
        spec.initProcess = true
        spec.mounts = [(dataDir.path, service.spec.data)]
        spec.stopSignal = service.spec.stopSignal
        spec.stopTimeout = service.spec.stopTimeout
        spec.command = [try Rendering.start(service.spec, stamp: stamp)]
        return spec
    }
}

/// Runs one setup or update step inside a running service container.
struct StepRunner: Sendable {
    var docker: Docker

    func run(_ step: ResolvedStep, script: String, container: String, service: ResolvedService, recipe: String,
             line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let command = DockerCommand.exec(container, user: service.spec.runAs, script: script, stdinFile: step.stdinFile)
        let out = try await docker.run(command, check: false)
        for text in (out.stdout + out.stderr).split(separator: "\n") { line(String(text)) }
        if out.status != 0 {
            if Docker.isEngineDown(out.stderr) { throw docker.failure(command, out) }
            throw SandboxError(.stepFailed, "step '\(step.title)' of service \(service.name) failed (exit status \(out.status)) at \(recipe):\(step.location.line)",
                               fix: "fix the step or the file it reads, then run `sandbox up` again; it will be retried",
                               detail: Docker.tail(out.stderr.isEmpty ? out.stdout : out.stderr, lines: 15))
        }
    }
}

/// Waits until a service answers its readiness check: a condition with a deadline.
///
/// The check itself runs inside the container, in a loop the entry script starts (see `EntryScript`),
/// which creates `.sandbox-ready` in the data dir when it passes. Waiting is then a cheap look at the
/// host folder; the engine is asked only every half second whether the container is still running.
struct Readiness: Sendable {
    var docker: Docker

    static let markerName = ".sandbox-ready"

    static func marker(_ dataDir: URL) -> URL { dataDir.appendingPathComponent(markerName) }

    /// Call before every start of the container, so an old marker is never taken for this start's.
    static func clear(_ dataDir: URL) {
        unlink(marker(dataDir).path)
    }

    /// What the container needs to run the check: the rendered `ready` command.
    static func environment(_ service: ResolvedService, stamp: DataStamp?) throws(SandboxError) -> [String: String] {
        ["SANDBOX_READY": try Rendering.command(service.spec.ready, spec: service.spec, stamp: stamp)]
    }

    /// `timeout` defaults to the recipe's `ready-timeout`.
    func wait(container: String, service: ResolvedService, dataDir: URL, timeout: Duration? = nil) async throws(SandboxError) {
        let timeout = timeout ?? .seconds(service.spec.readyTimeout)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        let marker = Self.marker(dataDir).path
        var nextStateCheck = started + .milliseconds(500)
        while true {
            let marked = access(marker, F_OK) == 0
            let now = clock.now
            // Once marked, one look at the container confirms the service did not stop right after its check passed.
            if marked || now >= nextStateCheck || now >= deadline {
                let command = DockerCommand.containerState(container)
                let out = try await docker.run(command, check: false)
                if Docker.isEngineDown(out.stderr) { throw docker.failure(command, out) }
                let state = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let stopped = out.status != 0 || (state != "running" && state != "created" && state != "restarting")
                if marked && !stopped { return }
                if stopped || now >= deadline {
                    let logs = try? await docker.run(.logs(container, tail: 30), check: false)
                    let tail = Docker.tail(((logs?.stdout ?? "") + (logs?.stderr ?? "")), lines: 30)
                    throw SandboxError(.notReady, stopped
                                       ? "service \(service.name) stopped while starting"
                                       : "service \(service.name) did not become ready within \(timeout.components.seconds)s",
                                       fix: "read the log above (`sandbox logs \(service.name)` shows all of it); fix the image recipe's 'start' or 'ready' (or raise its 'ready-timeout'), then `sandbox up` again",
                                       detail: tail)
                }
                nextStateCheck = now + .milliseconds(500)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Appends lines to a log file under `.sandbox/<instance>/logs/`.
final class LogFile: Sendable {
    let url: URL
    init(_ url: URL) {
        self.url = url
        try? FileSystem.ensureDirectory(url.deletingLastPathComponent())
    }

    func append(_ line: String) {
        let data = Data((line + "\n").utf8)
        if let handle = FileHandle(forWritingAtPath: url.path) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        } else {
            FileManager.default.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600])
        }
    }
}

/// The instance state the side-by-side service chains update (their ports).
final class SharedState: Sendable {
    let value: Mutex<InstanceState>
    init(_ state: InstanceState) { value = Mutex(state) }
}
