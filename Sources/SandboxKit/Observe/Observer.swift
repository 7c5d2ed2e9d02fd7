import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// Gathers `ObservedState` for one instance: one `docker ps` and one `docker image inspect` (with a registry also one
/// manifest query per image or golden copy that is missing here), the rest from the host.
package struct Observer: Sendable {
    package var docker: Docker
    package var layout: InstanceLayout

    package init(docker: Docker, layout: InstanceLayout) {
        self.docker = docker
        self.layout = layout
    }

    package struct PSLine: Decodable {
        var ID: String
        package var Names: String
        package var State: String
        var Labels: String
        var Ports: String?
    }

    struct ImageLine: Decodable {
        struct Config: Decodable { var Labels: [String: String]? }
        var Id: String
        var RepoTags: [String]?
        var Config: Config?
    }

    /// This instance's containers, by service label.
    package func containers(role: String = "service") async throws(SandboxError) -> [String: ObservedContainer] {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: layout.checkout.id, Label.instance: layout.instance,
                                                              Label.role: role]))
        return Self.parseContainers(out.stdout)
    }

    /// Every instance's service containers in a checkout, by instance and service, in one `docker ps` (for `ls`).
    package static func containersByInstance(checkout: Checkout, docker: Docker) async throws(SandboxError) -> [String: [String: ObservedContainer]] {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: checkout.id, Label.role: "service"]))
        return parseContainersByInstance(out.stdout)
    }

    static func parseContainersByInstance(_ text: String) -> [String: [String: ObservedContainer]] {
        var result: [String: [String: ObservedContainer]] = [:]
        for line in text.split(separator: "\n") {
            guard let ps = try? JSONDecoder().decode(PSLine.self, from: Data(line.utf8)),
                  let instance = parseLabels(ps.Labels)[Label.instance] else { continue }
            for (service, container) in parseContainers(String(line)) { result[instance, default: [:]][service] = container }
        }
        return result
    }

    /// Containers by service label; one set aside for its replacement (`…-retired`) only with `retired`.
    static func parseContainers(_ text: String, retired: Bool = false) -> [String: ObservedContainer] {
        var result: [String: ObservedContainer] = [:]
        for line in text.split(separator: "\n") {
            guard let ps = try? JSONDecoder().decode(PSLine.self, from: Data(line.utf8)), ps.Names.hasSuffix("-retired") == retired else { continue }
            let labels = parseLabels(ps.Labels)
            guard let service = labels[Label.service] else { continue }
            result[service] = ObservedContainer(id: ps.ID, name: ps.Names, service: service, running: ps.State == "running",
                                                state: ps.State, configHash: labels[Label.configHash],
                                                imageHash: labels[Label.imageHash], ports: ps.Ports ?? "")
        }
        return result
    }

    /// `docker ps` prints labels as `k=v,k=v`.
    static func parseLabels(_ text: String) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            labels[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return labels
    }

    /// Present images among `tags`, with their content-hash labels, in one call.
    package func images(_ tags: [String]) async throws(SandboxError) -> [String: String?] { try await imagesAndLiveHashes(tags).hashes }

    /// Present images with their content-hash labels, and the live-hash labels of those that have one, in one call.
    func imagesAndLiveHashes(_ tags: [String]) async throws(SandboxError) -> (hashes: [String: String?], live: [String: String]) {
        guard !tags.isEmpty else { return ([:], [:]) }
        let out = try await docker.run(.inspectImages(tags), check: false)
        if out.status != 0 && out.failure != .noSuchImage {
            throw docker.failure(.inspectImages(tags), out)
        }
        return (Self.parseImages(out.stdout, wanted: tags), Self.parseImages(out.stdout, wanted: tags, label: Label.liveHash).compactMapValues { $0 })
    }

    package static func parseImages(_ text: String, wanted: [String], label: String = Label.imageHash) -> [String: String?] {
        var result: [String: String?] = [:]
        for line in text.split(separator: "\n") {
            guard let image = try? JSONDecoder().decode(ImageLine.self, from: Data(line.utf8)) else { continue }
            let hash = image.Config?.Labels?[label]
            for tag in image.RepoTags ?? [] where wanted.contains(tag) { result[tag] = .some(hash) }
            // `docker image inspect debian:bookworm` may list the tag as docker.io/library/debian:bookworm on some engines.
            for tag in wanted where result[tag] == nil && (image.RepoTags ?? []).contains(where: { $0.hasSuffix("/\(tag)") }) {
                result[tag] = .some(hash)
            }
        }
        return result
    }

    /// Everything the planner needs for `operation`: for `up`, `reset` and `restore` one `docker ps` and one
    /// `docker image inspect`, asked at once; for `down`, `destroy` and `snapshot save` only the `docker ps`, and for
    /// `snapshot delete` no engine at all. What a killed command left is found first: the state it describes is the one
    /// the plan's recovery leaves (a committed switch done, a journalled deletion finished).
    package func observe(_ sandbox: ResolvedSandbox?, for operation: InstanceOperation = .up,
                        registry: Registry? = nil) async throws(SandboxError) -> ObservedState {
        var state = ObservedState()
        let found = DataSwitch(layout: layout).leftovers()
        state.leftovers = Leftovers(deletion: found.deletion, switched: found.switched,
                                    stale: found.stale + SnapshotStore(layout: layout).leftovers())
        state.snapshotNames = SnapshotStore(layout: layout).list().map(\.name)
        if !found.deletion {
            do { state.saved = try InstanceState.load(layout) } catch { state.damaged.append(Damage(file: layout.stateFile.lastPathComponent, error)) }
            if let damage = InstanceSecrets.damage(layout) { state.damaged.append(Damage(file: layout.secretsFile.lastPathComponent, damage)) }
        }
        if case .deleteSnapshot = operation { return state }
        guard let sandbox, operation.needsRecipes else {
            (state.containers, state.leftovers.upgradeServers) = try await containersAndUpgradeServers()
            if case .down = operation { state.networks = try await networks() }
            if case .destroy = operation { state.networks = try await networks() }
            return state
        }
        // Data an older version made needs that version's image for its upgrade: its tags are asked with the others.
        var tags = sandbox.imageTags
        var versionChanged: [String] = []
        for service in sandbox.services {
            guard !state.leftovers.deletion, let stamp = DataStamp.read(from: dataDir(service.name, state.leftovers)),
                  stamp.version != service.spec.version else { continue }
            versionChanged.append(service.name)
            for image in service.version(for: stamp)?.images ?? [] {
                if !tags.contains(image.tag) { tags.append(image.tag) }
                if case let .external(base)? = image.base, !tags.contains(base) { tags.append(base) }
            }
        }
        for name in versionChanged { state.dataSizes[name] = DiskUsage.of(dataDir(name, state.leftovers)).bytes }
        async let containerList = Self.capture { () async throws(SandboxError) in try await containersAndUpgradeServers() }
        async let imageList = Self.capture { [tags] () async throws(SandboxError) in try await imagesAndLiveHashes(tags) }
        let (checkout, isUp, isNew) = (layout.checkout.root, operation == .up, state.saved == nil)
        async let commit: String? = isUp ? await GitHead.commit(at: checkout) : nil
        async let engineID: String? = isNew ? await docker.engineID() : nil
        (state.containers, state.leftovers.upgradeServers) = try await containerList.get()
        (state.images, state.imageLiveHashes) = try await imageList.get()
        state.commit = await commit
        state.engineID = await engineID
        state.engine = Docker.engine
        let secrets = state.leftovers.deletion ? InstanceSecrets() : InstanceSecrets.read(layout)
        var taken: Set<Int> = []
        var stamps: [String: DataStamp] = [:]
        for service in sandbox.services {
            // A journalled deletion is finished first: the data it is deleting is as good as gone.
            let data = state.leftovers.deletion ? .missing : DataStamp.inspect(dataDir(service.name, state.leftovers))
            state.dataDirs[service.name] = data
            if case let .ready(stamp) = data {
                stamps[service.name] = stamp
                if stamp.password != secrets.passwords[service.name] { state.sharedCredentials.insert(service.name) }
            }
            if let stamp = DataStamp.read(from: layout.golden(service)) {
                state.golden.insert(service.name)
                state.goldenUpdates[service.name] = Set(stamp.updates.keys)
            }
            let container = state.containers[service.name], previous = state.saved?.ports[service.name]
            // A port the engine is still releasing (its container was removed a moment ago) is waited for, briefly,
            // so the instance keeps its URL.
            if let previous, container?.running != true, !Ports.isFree(previous, address: service.publish) {
                _ = await Ports.waitUntilFree(previous, address: service.publish, timeout: .seconds(2))
            }
            let choice = Self.port(for: service, container: container, previous: previous,
                                   seed: "\(layout.checkout.id)/\(layout.instance)/\(service.name)", avoid: taken)
            switch choice {
            case let .success(port)?: state.ports[service.name] = port; taken.insert(port.port)
            case let .failure(conflict)?: state.portConflicts[service.name] = conflict.port
            case nil: break
            }
        }
        state.envCurrent = envCurrent(sandbox, ports: state.ports.mapValues(\.port), stamps: stamps)
        state.unusableVariables = Self.unusableVariables(sandbox)
        let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: state.ports.mapValues(\.port), stamps: stamps)
        for service in sandbox.services {
            let file = layout.runDir(service.name).appendingPathComponent("env")
            if let pairs = try? rendering.serviceEnv(service), FileManager.default.contents(atPath: file.path) == Data(Rendering.envFile(pairs).utf8) {
                state.serviceEnvCurrent.insert(service.name)
            }
        }
        // What the present images and the containers' images were built from, where it differs from the recipe now.
        for image in sandbox.images where image.context != nil {
            var hashes: [String] = []
            if case let hash?? = state.images[image.tag] { hashes.append(hash) }
            for service in sandbox.services where service.imageTag == image.tag { hashes += [state.containers[service.name]?.imageHash].compactMap { $0 } }
            for hash in hashes where hash != image.hash && state.imageManifests[hash] == nil {
                if let files = ImageManifest.read(hash: hash) { state.imageManifests[hash] = files }
            }
        }
        if case let .restore(name) = operation { observeSnapshot(name, secrets: secrets, into: &state) }
        if let registry, case .up = operation { state.registry = await Self.registryContents(registry, sandbox, state, layout: layout, docker: docker) }
        return state
    }

    /// The variables the recipes name whose value holds a NUL character: found before anything runs, not when a step
    /// that names one fails half way through.
    static func unusableVariables(_ sandbox: ResolvedSandbox, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var templates = sandbox.env.map(\.value)
        for service in sandbox.services {
            templates += service.env.map(\.value)
            for step in service.setup + service.update { templates += [step.command] + Array(step.params.values) }
        }
        let names = Set(templates.flatMap(\.references).filter { $0.hasPrefix("env.") }.map { String($0.dropFirst(4)) })
        return names.filter { environment[$0]?.unicodeScalars.contains("\0") == true }.sorted()
    }

    /// A service's data dir as the plan's recovery leaves it: a committed switch puts the staged copy in place.
    func dataDir(_ service: String, _ leftovers: Leftovers) -> URL {
        if leftovers.switched?.contains(service) == true, FileSystem.exists(layout.staging(service)) { return layout.staging(service) }
        return layout.dataDir(service)
    }

    /// Whether `.sandbox/<instance>/env` holds what the data's credentials and these ports give.
    func envCurrent(_ sandbox: ResolvedSandbox, ports: [String: Int], stamps: [String: DataStamp]) -> Bool {
        guard let pairs = try? Rendering(sandbox: sandbox, instance: layout.instance, ports: ports, stamps: stamps).env() else { return false }
        return FileManager.default.contents(atPath: layout.envFile.path) == Data(Rendering.envFile(pairs).utf8)
    }

    /// The instance's service containers by service, and the private servers an upgrade runs, from one `docker ps`.
    /// The instance's networks, found by its labels (whatever made them: an `up` that failed before any container ran
    /// leaves one, which no record names).
    func networks() async throws(SandboxError) -> [String] {
        let out = try await docker.run(.listNetworks(labels: [Label.checkout: layout.checkout.id, Label.instance: layout.instance]))
        return out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.sorted()
    }

    func containersAndUpgradeServers() async throws(SandboxError) -> ([String: ObservedContainer], [ObservedContainer]) {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: layout.checkout.id, Label.instance: layout.instance]))
        var services: [String: ObservedContainer] = [:]
        var upgrades: [ObservedContainer] = []
        for line in out.stdout.split(separator: "\n") {
            guard let ps = try? JSONDecoder().decode(PSLine.self, from: Data(line.utf8)) else { continue }
            let role = Self.parseLabels(ps.Labels)[Label.role]
            for (_, container) in Self.parseContainers(String(line)) {
                if role == "upgrade" { upgrades.append(container) } else if role == "service" { services[container.service] = container }
            }
            // A container set aside while its replacement started, by a command that was killed: a leftover too.
            upgrades += Self.parseContainers(String(line), retired: true).values
        }
        return (services, upgrades.sorted { $0.name < $1.name })
    }

    /// Asks the registry, all at once, for each image that is missing or changed here and each golden copy not made
    /// here (shared ones only: a golden copy made per instance is never pushed). A golden copy is looked for with
    /// each prefix of the update steps every copy shares (steps are added at the end over time); the longest found wins,
    /// and the copies run the rest themselves.
    static func registryContents(_ registry: Registry, _ sandbox: ResolvedSandbox, _ state: ObservedState, layout: InstanceLayout,
                                 docker: Docker) async -> Registry.Contents {
        struct Wanted: Sendable { var service: String?; var key: String; var reference: String; var updates: Set<String> }
        var wanted: [Wanted] = []
        for image in sandbox.images where image.recipe.bootstrap == nil && state.images[image.tag] != .some(.some(image.hash)) {
            wanted.append(Wanted(service: nil, key: image.tag, reference: registry.image(tag: image.tag, hash: image.hash), updates: []))
        }
        for service in sandbox.services where service.lendsFor == nil && !state.golden.contains(service.name) && !service.setup.contains(where: \.perInstance) {
            let shared = service.update.filter { !$0.perInstance }.map(\.hash)
            for count in 0...shared.count {
                let applied = Array(shared.prefix(count))
                wanted.append(Wanted(service: service.name, key: "\(count)",
                                     reference: registry.golden(owner: sandbox.owner, sandbox: sandbox.name, service: service.name,
                                                                freshHash: service.freshHash, updates: applied),
                                     updates: Set(applied)))
            }
        }
        var contents = Registry.Contents()
        await withTaskGroup(of: (Wanted, Result<Bool, Registry.RegistryUnreachable>).self) { group in
            for item in wanted { group.addTask { (item, await Registry.has(item.reference, docker: docker)) } }
            for await (item, result) in group {
                switch result {
                case .success(true):
                    guard let service = item.service else { contents.images.insert(item.key); continue }
                    if (contents.golden[service]?.updates.count ?? -1) < item.updates.count {
                        contents.golden[service] = .init(reference: item.reference, updates: item.updates)
                    }
                case .success(false): break
                case let .failure(error): contents.unreachable = error.reason
                }
            }
        }
        if contents.unreachable != nil { contents.images = []; contents.golden = [:] }
        return contents
    }

    func observeSnapshot(_ name: String, secrets: InstanceSecrets, into state: inout ObservedState) {
        let store = SnapshotStore(layout: layout)
        state.snapshotNames = store.list().map(\.name)
        guard let info = store.info(name) else { return }
        var stamps: [String: DataStamp] = [:]
        var shared: Set<String> = []
        for service in info.services.keys {
            guard let stamp = DataStamp.read(from: store.folder(name).appendingPathComponent(service)) else { continue }
            stamps[service] = stamp
            if stamp.password != secrets.passwords[service] { shared.insert(service) }
        }
        state.snapshot = ObservedSnapshot(name: name, sandbox: info.sandbox, stamps: stamps, sharedCredentials: shared)
    }

    struct PinnedPortTaken: Error { var port: Int }

    /// The one port policy: a running container of ours keeps its port; a pinned port is used or is a conflict;
    /// else the port the instance had, while free; else a free one picked from a stable seed.
    static func port(for service: ResolvedService, container: ObservedContainer?, previous: Int?, seed: String,
                     avoid: Set<Int>) -> Result<PortChoice, PinnedPortTaken>? {
        let held = container.flatMap { c in c.running ? hostPort(c.ports) : nil }
        if let pinned = service.hostPort {
            guard held == pinned || Ports.isFree(pinned, address: service.publish) else { return .failure(PinnedPortTaken(port: pinned)) }
            return .success(PortChoice(port: pinned, change: previous.flatMap { $0 != pinned ? "port pinned to \(pinned)" : nil }))
        }
        if let previous, held == previous || Ports.isFree(previous, address: service.publish) { return .success(PortChoice(port: previous)) }
        // No record of the port (a record set aside by --repair): the one the running container holds stays.
        if previous == nil, let held { return .success(PortChoice(port: held)) }
        guard let port = Ports.pick(seed: seed, address: service.publish, avoid: avoid) else { return nil }
        return .success(PortChoice(port: port, change: previous.map { "port \($0) is taken by another program; moving to \(port)" }))
    }

    static func capture<T>(_ body: () async throws(SandboxError) -> T) async -> Result<T, SandboxError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// The host port from docker ps's `127.0.0.1:20001->5432/tcp`.
    static func hostPort(_ ports: String) -> Int? { ObservedContainer.published(ports)?.port }
}
