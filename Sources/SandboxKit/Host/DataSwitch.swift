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

    /// Run under the instance lock before any operation: finishes a committed switch, then deletes what killed runs
    /// left (uncommitted staging, replaced data, temporary files). Returns what it did, for the person watching.
    @discardableResult
    package func recover() throws(SandboxError) -> [String] {
        var done: [String] = []
        if FileSystem.exists(layout.deletionJournal) {
            try finishDeletion()
            done.append("finished deleting the data of an interrupted `destroy --delete-data`")
        }
        if let data = FileManager.default.contents(atPath: layout.switchJournal.path) {
            if let journal = try? JSONDecoder().decode(Journal.self, from: data) {
                try finish(journal.services)
                done.append("finished an interrupted data switch (\(journal.services.joined(separator: ", ")))")
            } else {
                try FileSystem.remove(layout.switchJournal)
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        for name in names.sorted()
            where name.hasSuffix(".staging") || name.hasSuffix(".replaced") || name.hasSuffix(".upgrade") || FileSystem.isTemporary(name) {
            try FileSystem.remove(layout.root.appendingPathComponent(name))
            if !FileSystem.isTemporary(name) { done.append("removed \(name), left by an interrupted command") }
        }
        return done
    }

    /// Deletes everything of the instance but its snapshots: data dirs, env, state, secrets, logs. Journalled
    /// (outside the instance's folder), so a killed deletion is finished by the next command, never left half done.
    package func deleteAll() throws(SandboxError) {
        try FileSystem.writeAtomically(Data(), to: layout.deletionJournal, mode: 0o600)
        try finishDeletion()
    }

    func finishDeletion() throws(SandboxError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        for name in names where name != layout.snapshots.lastPathComponent {
            try FileSystem.remove(layout.root.appendingPathComponent(name))
        }
        if FileSystem.isEmptyDirectory(layout.root) { try FileSystem.remove(layout.root) }
        try FileSystem.remove(layout.deletionJournal)
    }

    /// Deletes the data the last switch replaced.
    package func deleteReplaced(_ services: [String]) throws(SandboxError) {
        for service in services { try FileSystem.remove(layout.replaced(service)) }
    }
}
