import Foundation
import SandboxBase

/// Switches staged data dirs in for several services as one step a crash cannot split.
///
/// The journal is the commit point: once it is on disk, the switch happens, either now or, if the
/// process is killed, in the next command's `recover`; before it, `recover` throws the staged copies away.
package struct DataSwitch: Sendable {
    package var layout: InstanceLayout

    package init(layout: InstanceLayout) { self.layout = layout }

    struct Journal: Codable { var services: [String] }

    package func commit(_ services: [String]) throws(SandboxError) {
        for service in services where !FileSystem.exists(layout.staging(service)) {
            throw SandboxError(.io, "the staged data of \(service) is missing", fix: "run the command again; it stages the data anew")
        }
        FileSystem.syncFilesystem(layout.root)
        try FileSystem.writeAtomically((try? JSONEncoder().encode(Journal(services: services))) ?? Data(), to: layout.switchJournal, mode: 0o600)
        try finish(services)
    }

    /// Renames each staged dir into place (the old one aside); safe to repeat from any point.
    func finish(_ services: [String]) throws(SandboxError) {
        for service in services {
            let staged = layout.staging(service), data = layout.dataDir(service), old = layout.replaced(service)
            guard FileSystem.exists(staged) else { continue }
            if FileSystem.exists(data) {
                if FileSystem.exists(old) { try FileSystem.remove(old) }
                try FileSystem.move(data, to: old)
            }
            try FileSystem.move(staged, to: data)
        }
        FileSystem.syncFilesystem(layout.root)
        try FileSystem.remove(layout.switchJournal)
    }

    /// What a killed command left in the instance's folder, changing nothing: a journalled deletion, a committed
    /// switch (its services), and paths (relative to the folder) nothing will use again. The plan deals with each.
    package func leftovers() -> (deletion: Bool, switched: [String]?, stale: [String]) {
        let deletion = FileSystem.exists(layout.deletionJournal)
        var switched: [String]?
        var stale: [String] = []
        if let data = FileManager.default.contents(atPath: layout.switchJournal.path) {
            if let journal = try? JSONDecoder().decode(Journal.self, from: data) { switched = journal.services }
            else { stale.append(layout.switchJournal.lastPathComponent) }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        for name in names.sorted() {
            // The staging of a committed switch is the data it puts in place.
            if let switched, switched.contains(where: { layout.staging($0).lastPathComponent == name }) { continue }
            if InstanceLayout.leftoverSuffixes.contains(where: { name.hasSuffix($0) }) || FileSystem.isTemporary(name) {
                stale.append(name)
                continue
            }
            // A temporary stamp a killed write left inside a data dir would travel into every copy and snapshot of it.
            guard !name.hasPrefix("."), name != layout.snapshots.lastPathComponent, name != layout.logs.lastPathComponent else { continue }
            let inside = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.appendingPathComponent(name).path)) ?? []
            stale += inside.filter(FileSystem.isTemporary).sorted().map { "\(name)/\($0)" }
        }
        return (deletion, switched, stale)
    }

    /// A committed switch, finished: the staged data in place, the data it replaced deleted.
    package func finishCommitted(_ services: [String]) throws(SandboxError) {
        try finish(services)
        try deleteReplaced(services)
    }

    /// Renames a state file of the instance aside (`NAME.damaged`, replacing an older one).
    package func setAside(_ file: String) throws(SandboxError) {
        guard !file.contains("/") else { return }
        let url = layout.root.appendingPathComponent(file)
        guard FileSystem.exists(url) else { return }
        try FileSystem.remove(layout.root.appendingPathComponent(file + ".damaged"))
        try FileSystem.move(url, to: layout.root.appendingPathComponent(file + ".damaged"))
    }

    /// Deletes what `leftovers` listed as stale.
    package func discard(_ paths: [String]) throws(SandboxError) {
        for path in paths where !path.split(separator: "/").contains("..") {
            try FileSystem.remove(layout.root.appendingPathComponent(path))
        }
    }

    /// After a failed reset or restore: its staged copies are deleted, unless their switch was committed (the journal
    /// is on disk), which the next command then finishes.
    package func discardUncommitted(_ services: [String]) throws(SandboxError) {
        guard !FileSystem.exists(layout.switchJournal) else { return }
        for service in services { try FileSystem.remove(layout.staging(service)) }
    }

    /// Deletes everything of the instance but its snapshots: data dirs, env, state, secrets, logs. Journalled
    /// (outside the instance's folder), so a killed deletion is finished by the next command, never left half done.
    package func deleteAll() throws(SandboxError) {
        try FileSystem.writeAtomically(Data(), to: layout.deletionJournal, mode: 0o600)
        try finishDeletion()
    }

    package func finishDeletion() throws(SandboxError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        for name in names where name != layout.snapshots.lastPathComponent {
            try FileSystem.remove(layout.root.appendingPathComponent(name))
        }
        if FileSystem.isEmptyDirectory(layout.root) { try FileSystem.remove(layout.root) }
        try FileSystem.remove(layout.deletionJournal)
        // The lock file goes with the instance (the lock is held by this command; see `FileLock.attempt`), unless its
        // snapshots keep the instance.
        if !FileSystem.exists(layout.root) { try FileSystem.remove(layout.lockFile) }
    }

    /// Deletes the data the last switch replaced.
    package func deleteReplaced(_ services: [String]) throws(SandboxError) {
        for service in services { try FileSystem.remove(layout.replaced(service)) }
    }
}
