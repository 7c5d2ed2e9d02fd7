import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

/// Saves every service's data dir into a snapshot: the given containers stopped meanwhile for a consistent copy,
/// the copy staged and renamed into place only when complete, and the containers to restart started again
/// (and waited for) whatever happened; when the snapshot fails, every container it stopped.
package struct SnapshotSave: Sendable {
    var docker: Docker
    var layout: InstanceLayout
    var sandbox: ResolvedSandbox

    @discardableResult
    package func save(_ name: String, stop: [ObservedContainer], restart: [ObservedContainer],
              line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> SnapshotInfo {
        let store = SnapshotStore(layout: layout)
        var info = SnapshotInfo(name: name, sandbox: sandbox.name, services: [:], created: Date())
        for service in sandbox.services {
            guard let stamp = DataStamp.read(from: layout.dataDir(service.name)) else {
                throw SandboxError(.notRunning, "instance '\(layout.instance)' has no data for \(service.name) yet",
                                   fix: "run `\(Messages.up(layout.instance))` first")
            }
            info.services[service.name] = .init(engine: stamp.engine, version: stamp.version)
        }
        if FileSystem.exists(store.folder(name)) {
            throw SandboxError(.invalidName, "snapshot '\(name)' already exists in instance '\(layout.instance)'",
                               fix: "pick another name, or delete it first: `sandbox snapshot delete \(name) --instance \(layout.instance)`")
        }
        if !stop.isEmpty {
            line("stopping \(stop.count) service(s) for a consistent copy")
            try await docker.run(.stop(stop.map(\.id)))
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
        // A failed snapshot starts everything it stopped: nothing after it runs.
        let again = failure == nil ? restart : stop
        if !again.isEmpty {
            for container in again { Readiness.clear(layout.dataDir(container.service)) }
            try await docker.run(.start(again.map(\.id)))
            for container in again {
                guard let service = sandbox.service(container.service) else { continue }
                try await Readiness(docker: docker).wait(container: container.name, service: service, dataDir: layout.dataDir(service.name))
            }
        }
        if let failure { throw failure }
        return info
    }

    package init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
    }
}
