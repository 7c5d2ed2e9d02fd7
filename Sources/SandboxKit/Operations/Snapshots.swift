import Foundation
import SandboxBase
import SandboxHost
import SandboxOutput
import SandboxApply
import SandboxRecipes

extension Instance {
    /// Back to the freshly set-up state: every data dir replaced by a copy of the golden one, in one switch.
    package func reset(reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) {
        try await perform(.reset, reporter: reporter, wait: wait)
    }

    /// The instance's data dirs replaced by copies of a snapshot's; refused if engines or versions differ.
    package func restoreSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) {
        try SnapshotStore.validate(name)
        try await perform(.restore(snapshot: name), reporter: reporter, wait: wait)
    }

    package func snapshots() -> [SnapshotInfo] { SnapshotStore(layout: layout).list() }

    /// The disk a snapshot takes, and what deleting it would free (less where it shares blocks by reflink).
    package func snapshotUsage(_ name: String) -> DiskUsage { DiskUsage.of(SnapshotStore(layout: layout).folder(name)) }

    /// Deletes a snapshot under the instance lock; returns what it took. Freed is only what it alone held:
    /// blocks it shares with the instance, the golden copy or other snapshots stay theirs.
    package func deleteSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> DiskUsage {
        try SnapshotStore.validate(name)
        let lock = try await layout.lock(wait: wait, reporter: reporter, docker: docker)
        defer { withExtendedLifetime(lock) {} }
        let store = SnapshotStore(layout: layout)
        guard store.info(name) != nil else {
            let names = store.list().map(\.name)
            throw SandboxError(.noSuchSnapshot, "instance '\(layout.instance)' has no snapshot '\(name)'\(didYouMean(name, among: names))",
                               fix: names.isEmpty ? "there is nothing to delete; `sandbox snapshot ls` lists them"
                                                  : "use one of: \(names.joined(separator: ", "))")
        }
        let usage = DiskUsage.of(store.folder(name))
        try store.delete(name)
        return usage
    }

    /// Copies every data dir into a staging folder, with the services stopped for a consistent copy, then starts
    /// them again; the snapshot is renamed into place only when complete. Holds the instance lock throughout.
    package func saveSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> SnapshotInfo {
        try SnapshotStore.validate(name)
        let lock = try await layout.lock(wait: wait, reporter: reporter, docker: docker)
        defer { withExtendedLifetime(lock) {} }
        let containers = try await observer.containers()
        let running = sandbox.services.compactMap { s in containers[s.name].flatMap { $0.running ? $0 : nil } }
        return try await SnapshotSave(docker: docker, layout: layout, sandbox: sandbox)
            .save(name, stop: running, restart: running) { reporter.report(.message($0)) }
    }
}
