import Foundation
import SandboxBase
import SandboxRecipes

/// What made a data dir and what has been applied to it. Lives inside the data dir
/// (`.sandbox-data.json`, mode 0600) so it travels with copies, snapshots and golden dirs.
package struct DataStamp: Sendable, Equatable, Codable {
    package var engine: String
    package var version: String
    package var imageHash: String
    package var freshHash: String
    package var setupHash: String
    /// The login user and its generated password.
    package var user: String?
    package var password: String?
    /// Hashes of the update steps applied, with their titles.
    package var updates: [String: String]

    package static let fileName = ".sandbox-data.json"

    package static func read(from dataDir: URL) -> DataStamp? {
        guard let data = FileManager.default.contents(atPath: dataDir.appendingPathComponent(fileName).path) else { return nil }
        return try? JSONDecoder().decode(DataStamp.self, from: data)
    }

    /// What the folder holds: nothing, a stamped data dir, a damaged one, or something sandbox did not make.
    package static func inspect(_ dataDir: URL) -> DataDirState {
        guard FileSystem.exists(dataDir) else { return .missing }
        let file = dataDir.appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: file.path) {
            if let stamp = try? JSONDecoder().decode(DataStamp.self, from: data) { return .ready(stamp) }
            return .damaged("its stamp \(fileName) cannot be read")
        }
        if FileSystem.exists(file) { return .damaged("its stamp \(fileName) cannot be read (permissions?)") }
        return FileSystem.isEmptyDirectory(dataDir) ? .missing : .foreign
    }

    /// Written to a temporary file and renamed, so a crash never leaves half a stamp.
    package func write(to dataDir: URL) throws(SandboxError) {
        try FileSystem.writeJSON(self, to: dataDir.appendingPathComponent(Self.fileName), mode: 0o600)
    }

    package init(engine: String, version: String, imageHash: String, freshHash: String, setupHash: String, user: String? = nil,
                 password: String? = nil, updates: [String: String]) {
        self.engine = engine
        self.version = version
        self.imageHash = imageHash
        self.freshHash = freshHash
        self.setupHash = setupHash
        self.user = user
        self.password = password
        self.updates = updates
    }
}

/// What a data dir folder holds, as far as planning cares.
package enum DataDirState: Sendable, Equatable {
    case missing
    /// A folder that exists but was not made by sandbox (no stamp).
    case foreign
    /// Made by sandbox, but its stamp or content is damaged (the reason says what).
    case damaged(String)
    case ready(DataStamp)
}

extension ResolvedService {
    /// The image recipe that made data stamped `stamp`: the very image if its recipe is still here, else one of its version.
    package func version(for stamp: DataStamp) -> EngineVersion? {
        let same = otherVersions.filter { $0.spec.engine == stamp.engine && $0.spec.version == stamp.version }
        return same.first { $0.imageHash == stamp.imageHash } ?? same.first
    }
}
