import Foundation
import SandboxBase

/// The little an instance must remember between runs that docker labels cannot hold:
/// the host ports it was given, so URLs stay valid across `down` and `up`.
package struct InstanceState: Sendable, Equatable, Codable {
    package var sandbox: String
    package var ports: [String: Int]
    /// The checkout's commit when `up` last succeeded (nil outside git).
    package var commit: String?
    /// The engine the instance's containers live on, when it is not the default one (`DOCKER_HOST`, a context):
    /// its data dir must never be served by containers of two engines at once.
    package var engine: String?
    /// That engine's own ID (`docker info`), to tell another engine from another address of the same one.
    package var engineID: String?
    /// Brought up with `--live`: services with a `live` folder mount it (until `up --no-live`).
    package var live: Bool?

    package init(sandbox: String, ports: [String: Int] = [:]) {
        self.sandbox = sandbox
        self.ports = ports
    }

    package static func read(_ layout: InstanceLayout) -> InstanceState? {
        guard let data = FileManager.default.contents(atPath: layout.stateFile.path) else { return nil }
        return try? JSONDecoder().decode(InstanceState.self, from: data)
    }

    package func write(_ layout: InstanceLayout) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = (try? encoder.encode(self)) ?? Data()
        try FileSystem.writeAtomically(data, to: layout.stateFile, mode: 0o600)
    }
}
