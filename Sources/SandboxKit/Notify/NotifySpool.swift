import Foundation
import SandboxBase
import SandboxHost

/// Events waiting to be posted, one file each in `.sandbox/.notify/`. A command adds its event and returns; a
/// deliverer takes each file by renaming it to a name that carries its pid, so two deliverers never post the same
/// event, and the events of one that died are taken again by the next.
package struct NotifySpool: Sendable {
    package var directory: URL

    package init(stateDirectory: URL) { directory = stateDirectory.appendingPathComponent(".notify") }

    static let suffix = ".event"

    /// Adds `event`; the name starts with the time, so events are taken in the order they were made.
    @discardableResult
    package func add(_ event: NotifyEvent, at date: Date) throws(SandboxError) -> URL {
        let millis = Formatting.decimal(UInt64(max(0, date.timeIntervalSince1970 * 1000)), width: 15)
        let file = directory.appendingPathComponent("\(millis)-\(event.id.prefix(8))\(Self.suffix)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(event) } catch {
            throw SandboxError(.io, "cannot encode the \(event.kind.rawValue) event: \(error)")
        }
        try FileSystem.ensureDirectory(directory.deletingLastPathComponent())
        try FileSystem.ensureDirectory(directory, mode: 0o700)
        // Not flushed to disk: an event lost to a power cut is not worth a wait in every command.
        try FileSystem.writeAtomically(data, to: file, mode: 0o600, durable: false)
        return file
    }

    /// One taken event: the file now holds the deliverer's pid in its name.
    package struct Taken: Sendable {
        package var file: URL
        package var event: NotifyEvent
    }

    /// Takes every waiting event, and those of deliverers that died, oldest first. Unreadable files are dropped.
    package func take(pid: Int32 = getpid()) -> [Taken] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        var taken: [Taken] = []
        for name in names where !FileSystem.isTemporary(name) {
            guard let base = Self.base(of: name) else { continue }
            if name != base, let owner = Int32(name.dropFirst(base.count + 1)), owner == pid || Self.isAlive(owner) { continue }
            let from = directory.appendingPathComponent(name), to = directory.appendingPathComponent("\(base).\(pid)")
            // Another deliverer renamed it first: it is theirs.
            guard rename(from.path, to.path) == 0 else { continue }
            guard let data = FileManager.default.contents(atPath: to.path),
                  let event = try? JSONDecoder().decode(NotifyEvent.self, from: data) else {
                unlink(to.path)
                continue
            }
            taken.append(Taken(file: to, event: event))
        }
        return taken
    }

    /// Done with a taken event (delivered or given up).
    package func remove(_ taken: Taken) { unlink(taken.file.path) }

    /// Events no deliverer holds.
    package var waiting: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            guard !FileSystem.isTemporary(name), let base = Self.base(of: name) else { return false }
            return name == base || Int32(name.dropFirst(base.count + 1)).map { !Self.isAlive($0) } ?? true
        }.count
    }

    /// `…event` for a waiting file and for a taken one (`…event.<pid>`); nil for anything else.
    static func base(of name: String) -> String? {
        if name.hasSuffix(suffix) { return name }
        guard let range = name.range(of: suffix + ".") else { return nil }
        return String(name[..<range.upperBound].dropLast())
    }

    static func isAlive(_ pid: Int32) -> Bool { pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) }
}
