import Foundation
import Synchronization
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput

/// Carries out a plan, action by action, and makes no decisions of its own: every action carries what it needs.
/// Each action either completes or leaves nothing a later command would mistake for done.
package struct Executor: Sendable {
    package var docker: Docker
    package var layout: InstanceLayout
    package var sandbox: ResolvedSandbox?
    package var images: any ImageProviding
    package var reporter: any ProgressReporter
    /// The uid and gid that own data dirs (the golden copy's containers run as them).
    package var uid: UInt32
    package var gid: UInt32

    package init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox?, images: any ImageProviding,
                reporter: any ProgressReporter, uid: UInt32 = getuid(), gid: UInt32 = getgid()) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.images = images
        self.reporter = reporter
        self.uid = uid
        self.gid = gid
    }

    /// Performs the plan's actions in order: image actions one at a time, each service's chain side by side with the
    /// others', and instance-wide actions (data switches, deletions) alone, after everything before them.
    /// Stops at the first failure of each chain; when several services fail, every failure is reported.
    package func apply(_ plan: Plan) async throws(SandboxError) {
        if let refusal = plan.refusal { throw refusal }
        reporter.report(.planned(plan))
        let state = SharedState(InstanceState.read(layout) ?? InstanceState(sandbox: sandbox?.name ?? ""))
        var phase: [Plan.Action] = []
        for action in plan.actions {
            if case .instance = action.target {
                try await runPhase(phase, state: state)
                phase = []
                try await timed(action, state: state)
            } else {
                phase.append(action)
            }
        }
        try await runPhase(phase, state: state)
    }

    /// One phase; when it fails, every data upgrade in it is abandoned (a sibling's that succeeded too), so each
    /// upgraded service is back on its old data and old server before the error is reported.
    func runPhase(_ actions: [Plan.Action], state: SharedState) async throws(SandboxError) {
        do {
            try await run(actions, state: state)
        } catch {
            for action in actions {
                guard case let .upgradeData(upgrade) = action.kind, let sandbox else { continue }
                await DataUpgrader(docker: docker, layout: layout, sandbox: sandbox, uid: uid, gid: gid, line: { _ in }).abandon(upgrade)
            }
            throw error
        }
    }

    func run(_ actions: [Plan.Action], state: SharedState) async throws(SandboxError) {
        let imageActions = actions.filter { if case .image = $0.target { return true } else { return false } }
        for action in imageActions { try await timed(action, state: state) }
        var chains: [[Plan.Action]] = []
        for action in actions where !imageActions.contains(action) {
            if let index = chains.firstIndex(where: { $0.first?.target == action.target }) { chains[index].append(action) }
            else { chains.append([action]) }
        }
        let failures = await withTaskGroup(of: SandboxError?.self) { group in
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
        if distinct.count == 1 { throw distinct[0] }
        if distinct.count > 1 {
            var error = SandboxError(distinct[0].code, "\(distinct.count) services failed:\n" + distinct.map { "  - \($0.message)" }.joined(separator: "\n"),
                                     fix: distinct.compactMap(\.fix).first, detail: distinct.compactMap(\.detail).joined(separator: "\n"))
            error.replan = distinct.allSatisfy(\.replan)
            throw error
        }
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

    /// One case per kind of action, and no default: a new kind does not compile until it is carried out here.
    func perform(_ action: Plan.Action, state: SharedState) async throws(SandboxError) {
        let log = LogFile(layout.logs.appendingPathComponent(
            "\(action.targetText.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "-")).log"))
        let line: @Sendable (String) -> Void = { text in
            log.append(text)
            reporter.report(.output(action, text))
        }
        switch action.kind {
        case let .ensureBase(tag, bootstrap):
            try await images.ensureBase(tag, recipe: bootstrap, line: line)
        case let .build(image):
            try await images.build(image, line: line)
        case let .pullImage(image, reference):
            try await RegistryTransfer(docker: docker, line: line).pull(image, from: reference)
        case let .pullGolden(service, reference, updates):
            try await golden(line).pull(service, from: reference, updates: updates)
        case let .removeContainer(container, force):
            try await removeContainers([container], force: force)
        case let .removeContainers(containers):
            try await removeContainers(containers, force: true)
        case let .initGolden(service, updates):
            try await golden(line).make(service, updates: updates)
        case let .copyGolden(service):
            try await golden(line).copy(service)
        case let .stageData(service, source):
            try await DataCopy.copy(source, to: layout.staging(service), line: line)
        case let .switchData(services):
            try DataSwitch(layout: layout).commit(services)
        case let .saveSnapshot(name, stop, restart):
            try await SnapshotSave(docker: docker, layout: layout, sandbox: try recipe()).save(name, stop: stop, restart: restart, line: line)
        case let .upgradeData(upgrade):
            try await DataUpgrader(docker: docker, layout: layout, sandbox: try recipe(), uid: uid, gid: gid, line: line).run(upgrade)
        case .deleteReplacedData:
            try DataSwitch(layout: layout).deleteReplaced(sandbox?.services.map(\.name) ?? [])
        case .deleteData:
            try DataSwitch(layout: layout).deleteAll()
        case let .startContainer(container):
            Readiness.clear(layout.dataDir(container.service))
            try await docker.run(.start([container.id]))
        case let .createContainer(spec):
            try await createContainer(spec, state: state)
        case let .waitReady(service):
            try await Readiness(docker: docker).wait(container: layout.containerName(sandbox: try recipe().name, service: service.name),
                                                     service: service, dataDir: layout.dataDir(service.name))
        case let .setCredentials(service):
            try await setCredentials(service, state: state, line: line)
        case let .runUpdate(step, service):
            try await runUpdate(step, service: service, state: state, line: line)
        case .notice, .nothing:
            return
        }
    }

    func recipe() throws(SandboxError) -> ResolvedSandbox {
        guard let sandbox else { throw SandboxError(.io, "this action needs the sandbox recipe", fix: "name the sandbox on the command line") }
        return sandbox
    }

    func golden(_ line: @escaping @Sendable (String) -> Void) throws(SandboxError) -> GoldenData {
        GoldenData(docker: docker, layout: layout, sandbox: try recipe(), uid: uid, gid: gid, line: line)
    }

    /// Removes the containers (stopping each cleanly first unless `force`), then waits until the engine has released
    /// the ports they published, so the next container of the instance gets the same port and its URL stays valid.
    func removeContainers(_ containers: [ObservedContainer], force: Bool) async throws(SandboxError) {
        let ids = containers.map(\.id)
        if !force { try await docker.run(.stop(ids), check: false) }
        try await docker.forceRemove(ids)
        for container in containers {
            if let (address, port) = ObservedContainer.published(container.ports) { _ = await Ports.waitUntilFree(port, address: address) }
        }
    }

    /// Creates and starts the container exactly as planned. A picked port taken since planning is not decided here:
    /// the error asks the caller to plan again, which picks another by the one port policy.
    func createContainer(_ spec: ContainerSpec, state: SharedState) async throws(SandboxError) {
        Readiness.clear(layout.dataDir(spec.service))
        let command = DockerCommand.run(spec.run)
        let out = try await docker.run(command, check: false)
        if out.status != 0 {
            // The container may exist in "created" state after a failed start; it is ours (by name and labels).
            try? await docker.forceRemove([spec.run.name])
            guard out.failure == .portTaken else {
                throw docker.failure(command, out)
            }
            var error = SandboxError(.portTaken, "port \(spec.port) for service \(spec.service) was taken by another program since planning",
                                     fix: spec.pinned ? "stop what uses it (`ss -ltnp 'sport = :\(spec.port)'` shows it), or change 'port' for \(spec.service)"
                                                      : Messages.freePorts)
            error.replan = !spec.pinned
            throw error
        }
        // Updated and written under the lock, so a service finishing later never writes an older state.
        try state.value.withLock { (s: inout InstanceState) throws(SandboxError) in
            s.ports[spec.service] = spec.port
            try s.write(layout)
        }
    }

    func runUpdate(_ step: ResolvedStep, service: ResolvedService, state: SharedState, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let dataDir = layout.dataDir(service.name)
        guard var stamp = DataStamp.read(from: dataDir) else {
            throw SandboxError(.dataDirDamaged, "the data dir of \(service.name) lost its stamp", fix: Messages.damagedDataFix(instance: layout.instance))
        }
        let ports = state.value.withLock { $0.ports }
        let rendering = Rendering(sandbox: try recipe(), instance: layout.instance, ports: ports, stamps: [service.name: stamp])
        let script = try rendering.step(step, service: service)
        let container = layout.containerName(sandbox: try recipe().name, service: service.name)
        try await StepRunner(docker: docker).run(step, script: script, container: container, service: service, recipe: try recipe().recipePath, line: line)
        stamp.updates[step.hash] = step.title
        try stamp.write(to: dataDir)
    }

    /// The instance's own password for the service's login user: made once, kept in the instance's secrets,
    /// set through the image recipe's `set-password` action (the secret travels on standard input), then stamped.
    func setCredentials(_ service: ResolvedService, state: SharedState, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let dataDir = layout.dataDir(service.name)
        guard var stamp = DataStamp.read(from: dataDir), let action = service.actions["set-password"] else {
            throw SandboxError(.dataDirDamaged, "the data dir of \(service.name) lost its stamp", fix: Messages.damagedDataFix(instance: layout.instance))
        }
        let secret = try InstanceSecrets.password(for: service.name, layout)
        let step = ResolvedStep(title: "set-password secret=***", action: "set-password", command: action.run,
                                params: ["secret": Template(raw: secret, parts: [.text(secret)])], stdinFile: nil, hash: "",
                                location: action.location)
        let rendering = Rendering(sandbox: try recipe(), instance: layout.instance, ports: state.value.withLock { $0.ports }, stamps: [service.name: stamp])
        let script = try rendering.step(step, service: service)
        try await StepRunner(docker: docker).run(step, script: script, container: layout.containerName(sandbox: try recipe().name, service: service.name),
                                                 service: service, recipe: service.imageTag, line: line)
        stamp.password = secret
        try stamp.write(to: dataDir)
    }

    /// Writes `.sandbox/<instance>/env` when its content changed.
    package func writeEnv() throws(SandboxError) {
        guard let sandbox, let state = InstanceState.read(layout) else { return }
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        let text = Rendering.envFile(try Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports, stamps: stamps).env())
        if FileManager.default.contents(atPath: layout.envFile.path) != Data(text.utf8) {
            try FileSystem.writeAtomically(Data(text.utf8), to: layout.envFile, mode: 0o600)
        }
    }
}

/// The instance state the side-by-side service chains update (their ports).
final class SharedState: Sendable {
    let value: Mutex<InstanceState>
    init(_ state: InstanceState) { value = Mutex(state) }
}
