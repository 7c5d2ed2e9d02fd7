import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine

/// Waits until a service answers its readiness check: a condition with a deadline.
///
/// The check itself runs inside the container, in a loop the entry script starts (see `EntryScript`),
/// which creates `.sandbox-ready` in the data dir when it passes. Waiting is then a cheap look at the
/// host folder; the engine is asked only every half second whether the container is still running.
struct Readiness: Sendable {
    var docker: Docker

    static let markerName = ".sandbox-ready"

    static func marker(_ dataDir: URL) -> URL { dataDir.appendingPathComponent(markerName) }

    /// Call before every start of the container, so an old marker is never taken for this start's.
    static func clear(_ dataDir: URL) {
        unlink(marker(dataDir).path)
    }

    /// `timeout` defaults to the recipe's `ready-timeout`.
    func wait(container: String, service: ResolvedService, dataDir: URL, timeout: Duration? = nil) async throws(SandboxError) {
        let timeout = timeout ?? .seconds(service.spec.readyTimeout)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        let marker = Self.marker(dataDir).path
        var nextStateCheck = started + .milliseconds(500)
        while true {
            let marked = access(marker, F_OK) == 0
            let now = clock.now
            // Once marked, one look at the container confirms the service did not stop right after its check passed.
            if marked || now >= nextStateCheck || now >= deadline {
                let command = DockerCommand.containerState(container)
                let out = try await docker.run(command, check: false)
                if out.failure == .engineDown { throw docker.failure(command, out) }
                let state = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                // "restarting" is a service that died: the restart policy is bringing it back, over and over.
                let stopped = out.status != 0 || (state != "running" && state != "created")
                if marked && !stopped { return }
                if stopped || now >= deadline {
                    let logs = try? await docker.run(.logs(container, tail: 30), check: false)
                    // Stopped, so the restart policy does not bring a failing service back in a loop.
                    _ = try? await docker.run(.stop([container], timeout: 0), check: false)
                    let tail = Docker.tail(((logs?.stdout ?? "") + (logs?.stderr ?? "")), lines: 30)
                    throw SandboxError(.notReady, stopped
                                       ? "service \(service.name) stopped while starting"
                                       : "service \(service.name) did not become ready within \(timeout.components.seconds)s",
                                       fix: "read the log above (`sandbox logs \(service.name)` shows all of it). "
                                           + "If it names files missing from the data dir, the data is damaged: "
                                           + "`sandbox reset` or `sandbox snapshot restore NAME`. "
                                           + "If the image recipe changed, fix its 'start' or 'ready' (or raise 'ready-timeout'). "
                                           + "Then `sandbox up` again",
                                       detail: tail)
                }
                nextStateCheck = now + .milliseconds(500)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
