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

    /// Deletes a snapshot under the instance lock, as planned; returns what it took. Freed is only what it alone held:
    /// blocks it shares with the instance, the golden copy or other snapshots stay theirs.
    package func deleteSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> DiskUsage {
        try SnapshotStore.validate(name)
        let usage = DiskUsage.of(SnapshotStore(layout: layout).folder(name))
        try await perform(.deleteSnapshot(name), reporter: reporter, wait: wait)
        return usage
    }

    /// Copies every data dir into a snapshot with the services stopped for a consistent copy, then starts them again
    /// (the plan: stop, save, start; and should the save fail, start them all the same). Holds the instance lock throughout.
    package func saveSnapshot(_ name: String, reporter: any ProgressReporter, wait: Bool = true) async throws(SandboxError) -> SnapshotInfo {
        try SnapshotStore.validateNew(name)
        try await perform(.saveSnapshot(name), reporter: reporter, wait: wait)
        guard let info = SnapshotStore(layout: layout).info(name) else {
            throw SandboxError(.io, "snapshot '\(name)' was saved but cannot be read back", fix: "run `sandbox snapshot ls` to see what is there")
        }
        return info
    }
}
