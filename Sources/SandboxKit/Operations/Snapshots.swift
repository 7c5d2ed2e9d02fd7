import Foundation

extension Instance {
    /// Back to the freshly set-up state: every data dir replaced by a copy of the golden one, in one switch.
    public func reset(reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) {
        try await perform(.reset, reporter: reporter, wait: wait)
    }

    /// The instance's data dirs replaced by copies of a snapshot's; refused if engines or versions differ.
    public func restoreSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) {
        try SnapshotStore.validate(name)
        try await perform(.restore(snapshot: name), reporter: reporter, wait: wait)
    }

    public func snapshots() -> [SnapshotInfo] { SnapshotStore(layout: layout).list() }

    /// The disk a snapshot takes, and what deleting it would free (less where it shares blocks by reflink).
    public func snapshotUsage(_ name: String) -> DiskUsage { DiskUsage.of(SnapshotStore(layout: layout).folder(name)) }

    /// Deletes a snapshot under the instance lock; returns what it took. Freed is only what it alone held:
    /// blocks it shares with the instance, the golden copy or other snapshots stay theirs.
    public func deleteSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) throws(SandboxError) -> DiskUsage {
        try SnapshotStore.validate(name)
        let lock = try layout.lock(wait: wait, reporter: reporter)
        defer { withExtendedLifetime(lock) {} }
        let store = SnapshotStore(layout: layout)
        guard store.info(name) != nil else {
            let names = store.list().map(\.name)
            throw SandboxError(.noSuchSnapshot, "instance '\(layout.instance)' has no snapshot '\(name)'\(didYouMean(name, among: names))",
                               fix: names.isEmpty ? "there is nothing to delete; `sandbox snapshot ls` lists them" : "use one of: \(names.joined(separator: ", "))")
        }
        let usage = DiskUsage.of(store.folder(name))
        try store.delete(name)
        return usage
    }

    /// Copies every data dir into a staging folder, with the services stopped for a consistent copy, then starts
    /// them again; the snapshot is renamed into place only when complete. Holds the instance lock throughout.
    public func saveSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> SnapshotInfo {
        try SnapshotStore.validate(name)
        let lock = try layout.lock(wait: wait, reporter: reporter)
        defer { withExtendedLifetime(lock) {} }
        let store = SnapshotStore(layout: layout)
        var info = SnapshotInfo(name: name, sandbox: sandbox.name, services: [:], created: Date())
        for service in sandbox.services {
            guard let stamp = DataStamp.read(from: layout.dataDir(service.name)) else {
                throw SandboxError(.notRunning, "instance '\(layout.instance)' has no data for \(service.name) yet", fix: "run `\(Messages.up(layout.instance))` first")
            }
            info.services[service.name] = .init(engine: stamp.engine, version: stamp.version)
        }
        if FileSystem.exists(store.folder(name)) {
            throw SandboxError(.invalidName, "snapshot '\(name)' already exists in instance '\(layout.instance)'",
                               fix: "pick another name, or delete \(layout.checkout.display(store.folder(name).path)) first")
        }
        let containers = try await observer.containers()
        let running = sandbox.services.compactMap { s in containers[s.name].flatMap { $0.running ? $0.id : nil } }
        if !running.isEmpty {
            reporter.report(.message("stopping \(running.count) service(s) for a consistent copy"))
            try await docker.run(.stop(running))
        }
        var failure: SandboxError?
        do {
            for service in sandbox.services {
                try await DataCopy.copy(layout.dataDir(service.name), to: store.staging(name).appendingPathComponent(service.name))
            }
            try store.commit(info)
        } catch {
            try? FileSystem.remove(store.staging(name))
            failure = error
        }
        if !running.isEmpty {
            for service in sandbox.services { Readiness.clear(layout.dataDir(service.name)) }
            try await docker.run(.start(running))
            for service in sandbox.services where containers[service.name]?.running == true {
                try await Readiness(docker: docker).wait(container: layout.containerName(sandbox: sandbox.name, service: service.name),
                                                         service: service, dataDir: layout.dataDir(service.name))
            }
        }
        if let failure { throw failure }
        return info
    }
}
