import Foundation

/// Gathers `ObservedState` for one instance: one `docker ps` and one `docker image inspect`, the rest from the host.
public struct Observer: Sendable {
    public var docker: Docker
    public var layout: InstanceLayout

    public init(docker: Docker, layout: InstanceLayout) {
        self.docker = docker
        self.layout = layout
    }

    struct PSLine: Decodable {
        var ID: String
        var Names: String
        var State: String
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
    public func containers() async throws(SandboxError) -> [String: ObservedContainer] {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: layout.checkout.id, Label.instance: layout.instance,
                                                              Label.role: "service"]))
        return Self.parseContainers(out.stdout)
    }

    static func parseContainers(_ text: String) -> [String: ObservedContainer] {
        var result: [String: ObservedContainer] = [:]
        for line in text.split(separator: "\n") {
            guard let ps = try? JSONDecoder().decode(PSLine.self, from: Data(line.utf8)) else { continue }
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
    public func images(_ tags: [String]) async throws(SandboxError) -> [String: String?] {
        guard !tags.isEmpty else { return [:] }
        let out = try await docker.run(.inspectImages(tags), check: false)
        if out.status != 0 && !out.stderr.contains("No such image") && !out.stderr.contains("No such object") {
            throw docker.failure(.inspectImages(tags), out)
        }
        return Self.parseImages(out.stdout, wanted: tags)
    }

    static func parseImages(_ text: String, wanted: [String]) -> [String: String?] {
        var result: [String: String?] = [:]
        for line in text.split(separator: "\n") {
            guard let image = try? JSONDecoder().decode(ImageLine.self, from: Data(line.utf8)) else { continue }
            let hash = image.Config?.Labels?[Label.imageHash]
            for tag in image.RepoTags ?? [] where wanted.contains(tag) { result[tag] = .some(hash) }
            // `docker image inspect debian:bookworm` may list the tag as docker.io/library/debian:bookworm on some engines.
            for tag in wanted where result[tag] == nil && (image.RepoTags ?? []).contains(where: { $0.hasSuffix("/\(tag)") }) {
                result[tag] = .some(hash)
            }
        }
        return result
    }

    public func dataDir(_ service: String) -> DataDirState {
        let dir = layout.dataDir(service)
        guard FileSystem.exists(dir) else { return .missing }
        if let stamp = DataStamp.read(from: dir) { return .ready(stamp) }
        return FileSystem.isEmptyDirectory(dir) ? .missing : .foreign
    }

    /// Everything the planner needs.
    public func observe(_ sandbox: ResolvedSandbox) async throws(SandboxError) -> ObservedState {
        var state = ObservedState()
        var tags: [String] = []
        for image in sandbox.images {
            tags.append(image.tag)
            if case let .external(base)? = image.base, !tags.contains(base) { tags.append(base) }
        }
        // The two engine questions are independent: ask them at once.
        async let containerList = Self.capture { () async throws(SandboxError) in try await containers() }
        async let imageList = Self.capture { () async throws(SandboxError) in try await images(tags) }
        state.containers = try await containerList.get()
        state.images = try await imageList.get()
        let saved = InstanceState.read(layout)
        var taken: Set<Int> = []
        for service in sandbox.services {
            state.dataDirs[service.name] = dataDir(service.name)
            let golden = layout.golden(service)
            if let stamp = DataStamp.read(from: golden) {
                state.golden.insert(service.name)
                state.goldenUpdates[service.name] = Set(stamp.updates.keys)
            }
            let container = state.containers[service.name]
            let previous = saved?.ports[service.name]
            // A running container of ours holds its port: that port stays as long as the container does.
            let held = container.flatMap { c in c.running ? Self.hostPort(c.ports) : nil }
            if let pinned = service.hostPort {
                if held == pinned || Ports.isFree(pinned, address: service.publish) {
                    state.ports[service.name] = PortChoice(port: pinned, change: previous.map { $0 != pinned ? "port pinned to \(pinned)" : nil } ?? nil)
                } else {
                    state.portConflicts[service.name] = pinned
                }
            } else if let previous, held == previous || Ports.isFree(previous, address: service.publish) {
                state.ports[service.name] = PortChoice(port: previous)
            } else if let port = Ports.pick(seed: "\(layout.checkout.id)/\(layout.instance)/\(service.name)", address: service.publish, avoid: taken) {
                state.ports[service.name] = PortChoice(port: port, change: previous.map { "port \($0) is taken by another program; moving to \(port)" })
            }
            if let p = state.ports[service.name]?.port { taken.insert(p) }
        }
        return state
    }

    static func capture<T>(_ body: () async throws(SandboxError) -> T) async -> Result<T, SandboxError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// The host port from docker ps's `127.0.0.1:20001->5432/tcp`.
    static func hostPort(_ ports: String) -> Int? {
        guard let arrow = ports.range(of: "->") else { return nil }
        let left = ports[..<arrow.lowerBound]
        guard let colon = left.lastIndex(of: ":") else { return nil }
        return Int(left[left.index(after: colon)...])
    }
}
