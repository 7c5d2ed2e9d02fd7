import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// Waits until a service answers its readiness check: a condition with a deadline.
///
/// A command check runs inside the container, in a loop the entry script starts (see `EntryScript`), which creates
/// `.sandbox-ready` in the service's state folder (its data dir, or its run folder) when it passes; waiting is then a
/// cheap look at the host folder. An HTTP check (`ready: {http: /health}`) is asked from the host, on the published
/// port. Either way the engine is asked only every half second whether the container is still running.
struct Readiness: Sendable {
    var docker: Docker

    static let markerName = ".sandbox-ready"

    static func marker(_ folder: URL) -> URL { folder.appendingPathComponent(markerName) }

    /// Where the entry script marks the run folder's `once` script run and passed (before it marks the service ready).
    static func onceDone(_ folder: URL) -> URL { folder.appendingPathComponent(".sandbox-once-done") }

    /// Call before every start of the container, so an old marker is never taken for this start's.
    static func clear(_ folder: URL) {
        unlink(marker(folder).path)
        unlink(onceDone(folder).path)
    }

    /// Both places a service's marker may be (its data dir, its run folder), when only its name is at hand.
    static func clear(_ service: String, _ layout: InstanceLayout) {
        clear(layout.dataDir(service))
        clear(layout.runDir(service))
    }

    /// `folder`: where the entry script marks a command check passed. `address` and `port`: where an HTTP check asks.
    /// `timeout` defaults to the recipe's `ready-timeout`.
    func wait(container: String, service: ResolvedService, folder: URL, address: String = "127.0.0.1", port: Int? = nil,
              timeout: Duration? = nil) async throws(SandboxError) {
        let timeout = timeout ?? .seconds(service.spec.readyTimeout)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        let marker = Self.marker(folder).path
        var nextStateCheck = started + .milliseconds(500)
        var nextAsk = started
        var lastAnswer: String?
        while true {
            var marked = false
            switch service.spec.ready {
            case .command: marked = access(marker, F_OK) == 0
            case let .http(path) where clock.now >= nextAsk:
                // Asked four times a second: each ask is a request in the service's own log.
                nextAsk = clock.now + .milliseconds(250)
                let status = port.flatMap { HTTPProbe.status(address: address, port: $0, path: path, timeout: .milliseconds(500)) }
                marked = status.map { (200..<300).contains($0) } ?? false
                if let status { lastAnswer = "GET \(path) answered \(status)" }
            case .http: break
            }
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
                if stopped || now >= deadline { throw try await notReady(container, service, stopped: stopped, timeout: timeout, lastAnswer: lastAnswer) }
                nextStateCheck = now + .milliseconds(500)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The failure, with the service's last log lines; the container is stopped so its restart policy does not bring a
    /// failing service back in a loop.
    func notReady(_ container: String, _ service: ResolvedService, stopped: Bool, timeout: Duration, lastAnswer: String?)
        async throws(SandboxError) -> SandboxError {
        let logs = try? await docker.run(.logs(container, tail: 30), check: false)
        _ = try? await docker.run(.stop([container], timeout: 0), check: false)
        let tail = Docker.tail(((logs?.stdout ?? "") + (logs?.stderr ?? "")), lines: 30)
        let check: String
        switch service.spec.ready {
        case .command: check = "its 'ready' command never passed"
        case let .http(path): check = lastAnswer.map { "\($0), not 2xx" } ?? "nothing answered GET \(path)"
        }
        return SandboxError(.notReady, stopped ? "service \(service.name) stopped while starting"
                                               : "service \(service.name) did not become ready within \(timeout.components.seconds)s (\(check))",
                            fix: "read the log above (`sandbox logs \(service.name)` shows all of it). "
                                + (service.hasData ? "If it names files missing from the data dir, the data is damaged: "
                                    + "`sandbox reset` or `sandbox snapshot restore NAME`. " : "")
                                + "If the image recipe changed, fix its 'start' or 'ready' (or raise 'ready-timeout'). "
                                + "Then `sandbox up` again",
                            detail: tail)
    }
}
