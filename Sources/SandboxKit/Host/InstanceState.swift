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

    package static func read(_ layout: InstanceLayout) -> InstanceState? { try? load(layout) }

    /// The instance's record; nil when there is none (a new instance). A file that is there but cannot be read is an
    /// error that names it, never taken for a new instance (which would move every port).
    package static func load(_ layout: InstanceLayout) throws(SandboxError) -> InstanceState? {
        guard let reason = StateFile.problem(layout.stateFile, as: InstanceState.self) else {
            guard let data = FileManager.default.contents(atPath: layout.stateFile.path) else { return nil }
            return try? JSONDecoder().decode(InstanceState.self, from: data)
        }
        throw Messages.damagedState(layout.checkout.display(layout.stateFile.path), reason: reason,
                                    holds: "the ports its services are published on, so the URLs you saved",
                                    repair: "record it anew: running services keep their ports, others may get new ones",
                                    instance: layout.instance)
    }

    package func write(_ layout: InstanceLayout) throws(SandboxError) { try FileSystem.writeJSON(self, to: layout.stateFile, mode: 0o600) }
}

/// What is wrong with a JSON state file that exists: nil when it is missing or reads as `T`.
package enum StateFile {
    package static func problem<T: Decodable>(_ url: URL, as: T.Type) -> String? {
        guard FileSystem.exists(url) else { return nil }
        guard let data = FileManager.default.contents(atPath: url.path) else { return "it is not readable by you" }
        if data.isEmpty { return "it is empty" }
        do { _ = try JSONDecoder().decode(T.self, from: data) } catch {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.hasPrefix("{") && !text.hasSuffix("}") ? "it is cut short" : "it is not what sandbox wrote (not valid JSON for it)"
        }
        return nil
    }
}
