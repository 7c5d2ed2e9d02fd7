import Foundation

/// Named copies of an instance's data dirs, and the way back to a fresh state.
public struct SnapshotInfo: Sendable, Equatable, Codable {
    public struct Service: Sendable, Equatable, Codable {
        public var engine: String
        public var version: String
    }

    public var name: String
    public var sandbox: String
    public var services: [String: Service]
    public var created: Date

    static let fileName = "snapshot.json"
}

extension Instance {
    /// Back to the freshly set-up state: each data dir replaced by a copy of the golden one, then `up`.
    public func reset(reporter: any ProgressReporter) async throws(SandboxError) {
        try InstanceLayout.validate(instance: layout.instance)
        var sources: [String: URL] = [:]
        for service in sandbox.services {
            sources[service.name] = layout.golden(service)
        }
        try await replaceData(with: sources, reporter: reporter, prepareMissing: true)
    }

    /// Copies every data dir, with the services stopped for a consistent copy, then starts them again.
    public func saveSnapshot(_ name: String, reporter: any ProgressReporter) async throws(SandboxError) -> SnapshotInfo {
        try Self.validate(snapshot: name)
        let lock = try FileLock(layout.lockFile) { reporter.report(.message("waiting for another `sandbox` command on instance '\(layout.instance)'")) }
        defer { withExtendedLifetime(lock) {} }
        var info = SnapshotInfo(name: name, sandbox: sandbox.name, services: [:], created: Date())
        for service in sandbox.services {
            guard let stamp = DataStamp.read(from: layout.dataDir(service.name)) else {
                throw SandboxError(.notRunning, "instance '\(layout.instance)' has no data for \(service.name) yet", fix: "run `sandbox up` first")
            }
            info.services[service.name] = .init(engine: stamp.engine, version: stamp.version)
        }
        let target = layout.snapshots.appendingPathComponent(name)
        if FileSystem.exists(target) {
            throw SandboxError(.invalidName, "snapshot '\(name)' already exists in instance '\(layout.instance)'",
                               fix: "pick another name, or delete \(layout.checkout.display(target.path)) first")
        }
        let containers = try await observer.containers()
        let running = sandbox.services.compactMap { s in containers[s.name].flatMap { $0.running ? $0.id : nil } }
        if !running.isEmpty {
            reporter.report(.message("stopping \(running.count) service(s) for a consistent copy"))
            try await docker.run(.stop(running, timeout: sandbox.services.map(\.spec.stopTimeout).max()))
        }
        let staging = layout.snapshots.appendingPathComponent(".\(name).staging")
        try? FileManager.default.removeItem(at: staging)
        do {
            try FileSystem.ensureDirectory(staging)
            for service in sandbox.services {
                try await DataPreparer.copy(layout.dataDir(service.name), to: staging.appendingPathComponent(service.name))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.dateEncodingStrategy = .iso8601
            try FileSystem.writeAtomically((try? encoder.encode(info)) ?? Data(), to: staging.appendingPathComponent(SnapshotInfo.fileName), mode: 0o600)
            try FileSystem.move(staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            if !running.isEmpty {
                for service in sandbox.services { Readiness.clear(layout.dataDir(service.name)) }
                _ = try? await docker.run(.start(running))
            }
            throw error
        }
        if !running.isEmpty {
            for service in sandbox.services { Readiness.clear(layout.dataDir(service.name)) }
            try await docker.run(.start(running))
            for service in sandbox.services where containers[service.name]?.running == true {
                try await Readiness(docker: docker).wait(container: layout.containerName(sandbox: sandbox.name, service: service.name),
                                                         service: service, dataDir: layout.dataDir(service.name))
            }
        }
        return info
    }

    /// The instance's data dirs replaced by copies of a snapshot's; refused if engines or versions differ.
    public func restoreSnapshot(_ name: String, reporter: any ProgressReporter) async throws(SandboxError) {
        try Self.validate(snapshot: name)
        guard let info = snapshot(name) else {
            let names = snapshots().map(\.name)
            throw SandboxError(.noSuchSnapshot, "instance '\(layout.instance)' has no snapshot '\(name)'\(didYouMean(name, among: names))",
                               fix: names.isEmpty ? "save one first: sandbox snapshot save NAME" : "use one of: \(names.joined(separator: ", "))")
        }
        for service in sandbox.services {
            guard let saved = info.services[service.name] else {
                throw SandboxError(.dataDirMismatch, "snapshot '\(name)' has no data for service \(service.name)",
                                   fix: "restore it into an instance of the sandbox it was saved from (\(info.sandbox))")
            }
            if saved.engine != service.spec.engine || saved.version != service.spec.version {
                throw SandboxError(.dataDirMismatch, "snapshot '\(name)' holds \(saved.engine) \(saved.version) data for \(service.name), but the recipe runs \(service.spec.engine) \(service.spec.version)",
                                   fix: "restore it with the recipes it was saved with (git checkout), dump the data, and load it into the new version")
            }
        }
        let root = layout.snapshots.appendingPathComponent(name)
        var sources: [String: URL] = [:]
        for service in sandbox.services { sources[service.name] = root.appendingPathComponent(service.name) }
        try await replaceData(with: sources, reporter: reporter, prepareMissing: false)
    }

    public func snapshots() -> [SnapshotInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap(snapshot)
    }

    func snapshot(_ name: String) -> SnapshotInfo? {
        let file = layout.snapshots.appendingPathComponent(name).appendingPathComponent(SnapshotInfo.fileName)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(SnapshotInfo.self, from: data)
    }

    static func validate(snapshot name: String) throws(SandboxError) {
        let ok = !name.isEmpty && name.count <= 60 && !name.hasPrefix(".") && !name.hasPrefix("-")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        if !ok {
            throw SandboxError(.invalidName, "'\(name)' is not a usable snapshot name", fix: "use letters, digits, '-', '_' and '.', like 'before-migration'")
        }
    }

    /// Stops the services, swaps each data dir for a copy of `sources[service]` (staged, then renamed), and brings the instance up.
    func replaceData(with sources: [String: URL], reporter: any ProgressReporter, prepareMissing: Bool) async throws(SandboxError) {
        do {
            let lock = try FileLock(layout.lockFile) { reporter.report(.message("waiting for another `sandbox` command on instance '\(layout.instance)'")) }
            defer { withExtendedLifetime(lock) {} }
            let preparer = DataPreparer(docker: docker, layout: layout, sandbox: sandbox, planner: planner) { _ in }
            for service in sandbox.services where prepareMissing {
                if DataStamp.read(from: sources[service.name] ?? layout.root) == nil {
                    reporter.report(.message("\(service.name): making the fresh data once (image, init, setup)"))
                    try await Executor(docker: docker, layout: layout, sandbox: sandbox, planner: planner, images: images, reporter: reporter)
                        .run(planner.imageActions(try await observer.images(sandbox.images.map(\.tag) + sandbox.images.compactMap { if case let .external(b)? = $0.base { return b } else { return nil } })))
                    _ = try await preparer.ensureGolden(service)
                }
            }
            // Copy first, while the services still run: a failed copy leaves the instance as it was.
            for service in sandbox.services {
                guard let source = sources[service.name] else { continue }
                let staging = layout.staging(service.name)
                try? FileManager.default.removeItem(at: staging)
                try await DataPreparer.copy(source, to: staging)
            }
            // The old data is being thrown away, so there is nothing to shut down cleanly: kill and remove at once.
            let ids = try await observer.containers().values.map(\.id)
            if !ids.isEmpty { try await docker.run(.remove(ids, force: true)) }
            for service in sandbox.services where sources[service.name] != nil {
                let data = layout.dataDir(service.name)
                let old = replaced(service.name)
                try? FileManager.default.removeItem(at: old)
                if FileSystem.exists(data) { try FileSystem.move(data, to: old) }
                try FileSystem.move(layout.staging(service.name), to: data)
            }
        }
        _ = try await up(reporter: reporter)
        // Deleted after the services are back, so the wait for them does not include it.
        for service in sandbox.services where sources[service.name] != nil { try Self.remove(replaced(service.name)) }
    }

    func replaced(_ service: String) -> URL { layout.root.appendingPathComponent(".\(service).replaced") }

}
