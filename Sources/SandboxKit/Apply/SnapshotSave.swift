import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

/// Saves data dirs into a snapshot: each copied into a staging folder, which is renamed into place only when
/// complete. The plan stops the services first (for a consistent copy) and starts them again after.
package struct SnapshotSave: Sendable {
    var layout: InstanceLayout
    var sandbox: ResolvedSandbox

    @discardableResult
    package func save(_ name: String, services: [String], line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> SnapshotInfo {
        let store = SnapshotStore(layout: layout)
        var info = SnapshotInfo(name: name, sandbox: sandbox.name, services: [:], created: Date())
        for service in services {
            guard let stamp = DataStamp.read(from: layout.dataDir(service)) else {
                throw SandboxError(.notRunning, "instance '\(layout.instance)' has no data for \(service) yet",
                                   fix: "run `\(Messages.up(layout.instance))` first")
            }
            info.services[service] = .init(engine: stamp.engine, version: stamp.version)
        }
        if FileSystem.exists(store.folder(name)) {
            throw SandboxError(.invalidName, "snapshot '\(name)' already exists in instance '\(layout.instance)'",
                               fix: "pick another name, or delete it first: `sandbox snapshot delete \(name) --instance \(layout.instance)`")
        }
        do {
            for service in services {
                line("copying \(service)")
                try await DataCopy.copy(layout.dataDir(service), to: store.staging(name).appendingPathComponent(service))
            }
            try store.commit(info)
        } catch {
            try? FileSystem.remove(store.staging(name))
            throw error
        }
        return info
    }

    package init(layout: InstanceLayout, sandbox: ResolvedSandbox) {
        self.layout = layout
        self.sandbox = sandbox
    }
}
