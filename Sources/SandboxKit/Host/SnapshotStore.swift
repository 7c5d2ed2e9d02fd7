import Foundation
import SandboxBase

/// What a saved snapshot holds: a copy of every data dir, and this record of it.
package struct SnapshotInfo: Sendable, Equatable, Codable {
    package struct Service: Sendable, Equatable, Codable {
        package var engine: String
        package var version: String

        package init(engine: String, version: String) {
            self.engine = engine
            self.version = version
        }
    }

    package var name: String
    package var sandbox: String
    package var services: [String: Service]
    package var created: Date

    package static let fileName = "snapshot.json"

    package init(name: String, sandbox: String, services: [String: Service], created: Date) {
        self.name = name
        self.sandbox = sandbox
        self.services = services
        self.created = created
    }
}

/// An instance's snapshots under `.sandbox/<instance>/snapshots/`.
package struct SnapshotStore: Sendable {
    package var layout: InstanceLayout

    package init(layout: InstanceLayout) { self.layout = layout }

    package func folder(_ name: String) -> URL { layout.snapshots.appendingPathComponent(name) }
    package func staging(_ name: String) -> URL { layout.snapshots.appendingPathComponent(".\(name).staging") }

    package func list() -> [SnapshotInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap(info)
    }

    package func info(_ name: String) -> SnapshotInfo? {
        guard let data = FileManager.default.contents(atPath: folder(name).appendingPathComponent(SnapshotInfo.fileName).path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(SnapshotInfo.self, from: data)
    }

    /// Records the snapshot in its staging folder, then renames the folder into place: a snapshot is complete or absent.
    package func commit(_ info: SnapshotInfo) throws(SandboxError) {
        FileSystem.syncFilesystem(layout.snapshots)
        try FileSystem.writeJSON(info, to: staging(info.name).appendingPathComponent(SnapshotInfo.fileName), mode: 0o600)
        try FileSystem.move(staging(info.name), to: folder(info.name))
    }

    /// Renamed out of the list first (one atomic step), then deleted: a killed deletion is finished by `recover`.
    package func delete(_ name: String) throws(SandboxError) {
        let doomed = layout.snapshots.appendingPathComponent(".\(name).deleting")
        try FileSystem.remove(doomed)
        try FileSystem.move(folder(name), to: doomed)
        try FileSystem.remove(doomed)
    }

    /// Staging and half-deleted folders of killed saves and deletions, relative to the instance's folder.
    package func leftovers() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots.path)) ?? []
        return names.filter { $0.hasPrefix(".") }.sorted().map { "\(layout.snapshots.lastPathComponent)/\($0)" }
    }

    /// A new snapshot's name: lower-case letters, digits, '-', '_' and '.' (a name from before may hold upper case).
    package static func validateNew(_ name: String) throws(SandboxError) {
        try validate(name)
        if name.contains(where: \.isUppercase) {
            throw SandboxError(.invalidName, "'\(name)' is not a usable snapshot name: snapshot names are lower case",
                               fix: "use lower-case letters, digits, '-', '_' and '.', like '\(name.lowercased())'")
        }
    }

    package static func validate(_ name: String) throws(SandboxError) {
        let ok = !name.isEmpty && name.count <= 60 && !name.hasPrefix(".") && !name.hasPrefix("-")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        if !ok {
            throw SandboxError(.invalidName, "'\(name)' is not a usable snapshot name",
                               fix: "use lower-case letters, digits, '-', '_' and '.', like 'before-migration'")
        }
    }
}
