import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput

extension Executor {
    /// One case per kind of action, and no default: a new kind does not compile until it is carried out here.
    func perform(_ action: Plan.Action, plan: Plan) async throws(SandboxError) {
        let log = LogFile(layout.logs.appendingPathComponent(
            "\(action.targetText.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "-")).log"))
        let line: @Sendable (String) -> Void = { text in
            log.append(text)
            reporter.report(.output(action, text))
        }
        let data = DataSwitch(layout: layout)
        switch action.kind {
        case .finishDeletion: try data.finishDeletion()
        case let .finishSwitch(services): try data.finishCommitted(services)
        case let .discard(paths): try data.discard(paths)
        case let .setAside(file): try data.setAside(file)
        case let .ensureBase(tag, bootstrap): try await images.ensureBase(tag, recipe: bootstrap, line: line)
        case let .build(image): try await images.build(image, line: line)
        case let .pullImage(image, reference): try await RegistryTransfer(docker: docker, line: line).pull(image, from: reference)
        case let .pullGolden(service, reference, updates): try await golden(line, plan).pull(service, from: reference, updates: updates)
        case let .initGolden(service, updates): try await golden(line, plan).make(service, updates: updates)
        case let .copyGolden(service): try await golden(line, plan).copy(service)
        case let .stageData(service, source): try await DataCopy.copy(source, to: layout.staging(service), line: line)
        case let .switchData(services): try data.commit(services)
        case let .discardStaged(services): try data.discardUncommitted(services)
        case let .saveSnapshot(name, services):
            try await SnapshotSave(layout: layout, sandbox: try recipe()).save(name, services: services, line: line)
        case let .deleteSnapshot(name): try SnapshotStore(layout: layout).delete(name)
        case let .upgradeData(upgrade): try await upgrader(line).run(upgrade)
        case let .abandonUpgrade(upgrade): try await upgrader(line).abandon(upgrade)
        case let .deleteReplacedData(services): try data.deleteReplaced(services)
        case .deleteData: try data.deleteAll()
        case let .removeContainer(container, force): try await removeContainers([container], force: force)
        case let .removeContainers(containers): try await removeContainers(containers, force: true)
        case let .retireContainer(container): try await retire(container)
        case let .restoreContainer(container, service): try await restore(container, service: service)
        case let .stopContainers(containers): try await docker.run(.stop(containers.map(\.id)))
        case let .ensureNetwork(name): try await ensureNetwork(name)
        case let .removeNetwork(name): try await removeNetwork(name)
        case let .writeServiceEnv(service):
            try writeServiceEnv(service, ports: plan.ports)
            // Not where a retired container may come back (a replacement that fails): the new one must not change the
            // password of data the old one goes on serving with the stamped one.
            let restorable = plan.actions.contains { if case let .restoreContainer(_, s) = $0.kind { s.name == service.name } else { false } }
            try writeCredentialsScript(service, ports: plan.ports, wanted: !restorable && plan.actions.contains { $0.kind == .setCredentials(service) })
        case let .startContainer(container):
            Readiness.clear(container.service, layout)
            try await docker.run(.start([container.id]))
        case let .restartContainer(container):
            Readiness.clear(container.service, layout)
            try await docker.run(.restart([container.id]))
        case let .createContainer(spec): try await createContainer(spec)
        case let .waitReady(service):
            try await Readiness(docker: docker).wait(container: layout.containerName(sandbox: try recipe().name, service: service.name),
                                                     service: service, folder: layout.stateFolder(service),
                                                     address: Rendering.host(service.publish), port: plan.ports[service.name])
        case let .setCredentials(service): try await setCredentials(service, ports: plan.ports, line: line)
        case let .runUpdate(step, service): try await runUpdate(step, service: service, ports: plan.ports, line: line)
        case let .fillLeases(service, server):
            let pool = LeasePool(docker: docker, layout: layout, sandbox: try recipe().name, service: service, server: server)
            let done = try await pool.refill(wait: true)
            await pool.close()
            line("\(done.made) cop\(done.made == 1 ? "y" : "ies") made, \(done.dropped) dropped")
        case let .writeState(state): try state.write(layout)
        case .writeEnv: try writeEnv(ports: plan.ports)
        case .notice, .nothing: return
        }
    }

    func recipe() throws(SandboxError) -> ResolvedSandbox {
        guard let sandbox else { throw SandboxError(.io, "this action needs the sandbox recipe", fix: "name the sandbox on the command line") }
        return sandbox
    }

    func golden(_ line: @escaping @Sendable (String) -> Void, _ plan: Plan) throws(SandboxError) -> GoldenData {
        GoldenData(docker: docker, layout: layout, sandbox: try recipe(), uid: uid, gid: gid, ports: plan.ports, line: line)
    }

    func upgrader(_ line: @escaping @Sendable (String) -> Void) throws(SandboxError) -> DataUpgrader {
        DataUpgrader(docker: docker, layout: layout, sandbox: try recipe(), uid: uid, gid: gid, line: line)
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

    /// The name a container is set aside under while its replacement starts.
    static func retiredName(_ container: ObservedContainer) -> String { container.name + "-retired" }

    /// Stops the container cleanly and renames it aside; its port is free for the new one once this returns.
    func retire(_ container: ObservedContainer) async throws(SandboxError) {
        try await docker.run(.stop([container.id]))
        try await docker.forceRemove([Self.retiredName(container)])
        try await docker.run(.rename(container.id, to: Self.retiredName(container)))
        if let (address, port) = ObservedContainer.published(container.ports) { _ = await Ports.waitUntilFree(port, address: address) }
    }

    /// The new container (under the service's name) removed, the retired one given its name back and started again.
    func restore(_ container: ObservedContainer, service: ResolvedService) async throws(SandboxError) {
        // A password script written for the new container is not the old one's to run: the data keeps its stamped password.
        unlink(layout.onceScript(service.name).path)
        try await docker.forceRemove([container.name])
        try await docker.run(.rename(container.id, to: container.name))
        Readiness.clear(service.name, layout)
        try await docker.run(.start([container.id]))
        let published = ObservedContainer.published(container.ports)
        try await Readiness(docker: docker).wait(container: container.name, service: service, folder: layout.stateFolder(service),
                                                 address: published?.address ?? "127.0.0.1", port: published?.port)
    }

    /// Creates and starts the container exactly as planned. A picked port taken since planning is not decided here:
    /// the error asks the caller to plan again, which picks another by the one port policy.
    func createContainer(_ spec: ContainerSpec) async throws(SandboxError) {
        Readiness.clear(spec.service, layout)
        let command = DockerCommand.run(spec.run)
        let out = try await docker.run(command, check: false)
        guard out.status != 0 else { return }
        // The container may exist in "created" state after a failed start; it is ours (by name and labels).
        try? await docker.forceRemove([spec.run.name])
        guard out.failure == .portTaken else { throw docker.failure(command, out) }
        var error = SandboxError(.portTaken, "port \(spec.port) for service \(spec.service) was taken by another program since planning",
                                 fix: spec.pinned ? "stop what uses it (`ss -ltnp 'sport = :\(spec.port)'` shows it), or change 'port' for \(spec.service)"
                                                  : Messages.freePorts)
        error.replan = !spec.pinned
        throw error
    }

    func runUpdate(_ step: ResolvedStep, service: ResolvedService, ports: [String: Int], line: @escaping @Sendable (String) -> Void)
        async throws(SandboxError) {
        let dataDir = layout.dataDir(service.name)
        guard var stamp = DataStamp.read(from: dataDir) else {
            throw SandboxError(.dataDirDamaged, "the data dir of \(service.name) lost its stamp", fix: Messages.damagedDataFix(instance: layout.instance))
        }
        let rendering = Rendering(sandbox: try recipe(), instance: layout.instance, ports: ports, stamps: [service.name: stamp])
        let script = try rendering.step(step, service: service)
        let container = layout.containerName(sandbox: try recipe().name, service: service.name)
        try await StepRunner(docker: docker).run(step, script: script, container: container, service: service, recipe: try recipe().recipePath, line: line)
        stamp.updates[step.hash] = step.title
        try stamp.write(to: dataDir)
    }

    /// The instance's own password for the service's login user: made once, kept in the instance's secrets,
    /// set through the image recipe's `set-password` action, then stamped. The entry script has usually run it already
    /// (from the run folder's `once`, written before the container started); otherwise it runs here with `docker exec`
    /// (the secret travels on standard input).
    func setCredentials(_ service: ResolvedService, ports: [String: Int], line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let dataDir = layout.dataDir(service.name)
        let (step, script, secret, read) = try credentialsScript(service, ports: ports)
        var stamp = read
        let done = Readiness.onceDone(layout.stateFolder(service))
        if access(done.path, F_OK) == 0 {
            line("set by the container's entry script as it became ready")
        } else {
            try await StepRunner(docker: docker).run(step, script: script, container: layout.containerName(sandbox: try recipe().name, service: service.name),
                                                     service: service, recipe: service.imageTag, line: line)
        }
        unlink(done.path)
        unlink(layout.onceScript(service.name).path)
        stamp.password = secret
        try stamp.write(to: dataDir)
    }

    /// The `set-password` step for the instance's own secret, its script, the secret, and the data's stamp.
    func credentialsScript(_ service: ResolvedService, ports: [String: Int]) throws(SandboxError) -> (ResolvedStep, String, String, DataStamp) {
        guard let stamp = DataStamp.read(from: layout.dataDir(service.name)), let action = service.actions["set-password"] else {
            throw SandboxError(.dataDirDamaged, "the data dir of \(service.name) lost its stamp", fix: Messages.damagedDataFix(instance: layout.instance))
        }
        let secret = try InstanceSecrets.password(for: service.name, layout)
        let step = ResolvedStep(title: "set-password secret=***", action: "set-password", command: action.run,
                                params: ["secret": Template(raw: secret, parts: [.text(secret)])], stdinFile: nil, hash: "",
                                location: action.location)
        let rendering = Rendering(sandbox: try recipe(), instance: layout.instance, ports: ports, stamps: [service.name: stamp])
        return (step, try rendering.step(step, service: service), secret, stamp)
    }

    /// The password script for the entry script to run before the container it is about to start says ready, when the
    /// plan sets the service's password after that start and the service's check runs in the container; else no such
    /// file (an old one is never run again). It runs in the environment `docker exec` would give it: the service's own
    /// `env` (which the entry script exported for the service) unset first.
    func writeCredentialsScript(_ service: ResolvedService, ports: [String: Int], wanted: Bool) throws(SandboxError) {
        let file = layout.onceScript(service.name)
        guard wanted, case .command = service.spec.ready,
              // Without it (no stamp yet, say), the password is set with `docker exec`, and any problem is named there.
              let (_, script, _, _) = try? credentialsScript(service, ports: ports) else { unlink(file.path); return }
        let unset = service.env.isEmpty ? "" : "unset " + service.env.map(\.name).joined(separator: " ") + "\n"
        try FileSystem.writeAtomically(Data((unset + script).utf8), to: file, mode: 0o600)
    }

    /// The instance's network, made unless it is there (another command of the instance may have made it meanwhile).
    func ensureNetwork(_ name: String) async throws(SandboxError) {
        let command = DockerCommand.createNetwork(name, labels: layout.labels(sandbox: try recipe().name).merging([Label.role: "network"]) { $1 })
        let out = try await docker.run(command, check: false)
        guard out.status != 0, out.failure != .alreadyExists else { return }
        throw docker.failure(command, out)
    }

    func removeNetwork(_ name: String) async throws(SandboxError) {
        let command = DockerCommand.removeNetwork(name)
        let out = try await docker.run(command, check: false)
        guard out.status != 0, out.failure != .noSuchNetwork else { return }
        throw docker.failure(command, out)
    }

    /// The service's run folder with its environment file: its `env` rendered as the instance's network sees the other
    /// services, with their credentials as their data holds them now. Mode 0600, read by the entry script as root.
    func writeServiceEnv(_ service: ResolvedService, ports: [String: Int]) throws(SandboxError) {
        let sandbox = try recipe()
        var stamps: [String: DataStamp] = [:]
        for other in sandbox.services { stamps[other.name] = DataStamp.read(from: layout.dataDir(other.name)) }
        let pairs = try Rendering(sandbox: sandbox, instance: layout.instance, ports: ports, stamps: stamps).serviceEnv(service)
        let folder = layout.runDir(service.name)
        try FileSystem.ensureDirectory(folder)
        try FileSystem.writeAtomically(Data(Rendering.envFile(pairs).utf8), to: folder.appendingPathComponent("env"), mode: 0o600)
    }

    /// Writes `.sandbox/<instance>/env` from the data's credentials and the planned ports.
    func writeEnv(ports: [String: Int]) throws(SandboxError) {
        let sandbox = try recipe()
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services { stamps[service.name] = DataStamp.read(from: layout.dataDir(service.name)) }
        let text = Rendering.envFile(try Rendering(sandbox: sandbox, instance: layout.instance, ports: ports, stamps: stamps).env())
        try FileSystem.writeAtomically(Data(text.utf8), to: layout.envFile, mode: 0o600)
    }
}
