import Foundation
import SandboxBase
import SandboxEngine
import SandboxHost
import SandboxOutput

/// One command's hold on an instance, from its first step to its last.
///
/// Besides the lock, it leaves a mark (`.sandbox/.locks/<instance>.running`) that only a normal end removes:
/// a command that finds it knows the previous one was killed, and that docker operations it had started
/// (a stop, a removal, a start) may still be finishing in the engine, so the containers are not to be trusted.
package final class InstanceSession: @unchecked Sendable {
    let lock: FileLock
    let mark: URL
    /// The previous command on this instance was killed mid-way.
    package let interrupted: Bool

    init(lock: FileLock, mark: URL, interrupted: Bool) {
        self.lock = lock
        self.mark = mark
        self.interrupted = interrupted
    }

    deinit { unlink(mark.path) }
}

extension InstanceLayout {
    /// The data dirs of an instance are served by one engine's containers, never by two engines' at once. Checked
    /// under the lock, and only when this command names another engine than the one that made the instance: the
    /// same engine may be reached by another address (a proxy, a context), so the engines' own IDs decide.
    package func checkEngine(_ docker: Docker) async throws(SandboxError) {
        guard let saved = InstanceState.read(self), saved.engine != Docker.engine, let id = saved.engineID else { return }
        guard let current = await docker.engineID(), current != id else { return }
        throw Messages.otherEngine(instance: instance, owner: saved.engine, asked: Docker.engine)
    }

    var runningMark: URL { lockFile.deletingPathExtension().appendingPathExtension("running") }

    /// Takes the instance's lock for a whole command and notes whether the previous command was killed. What a killed
    /// command left is finished or undone by the plan that follows (its first actions), not here.
    /// With `wait` false, a held lock is `instance-busy`.
    package func lock(wait: Bool, reporter: any ProgressReporter) async throws(SandboxError) -> InstanceSession {
        let lock: FileLock
        if wait {
            lock = try await FileLock.acquire(lockFile) { reporter.report(.message(Messages.waiting(instance))) }
        } else {
            guard let taken = try FileLock.attempt(lockFile) else { throw Messages.busy(instance) }
            lock = taken
        }
        let interrupted = FileSystem.exists(runningMark)
        if interrupted { reporter.report(.message("the previous command on instance '\(instance)' was interrupted; its containers are made anew")) }
        // Not flushed to disk: after a power loss every container is gone or restarted anyway.
        FileManager.default.createFile(atPath: runningMark.path, contents: nil, attributes: [.posixPermissions: 0o600])
        return InstanceSession(lock: lock, mark: runningMark, interrupted: interrupted)
    }

    /// For `sandbox plan`, which takes no lock: whether a command is working on the instance now, and whether the last
    /// one was killed (its mark is there and no one holds the lock).
    package func activity() -> (busy: Bool, interrupted: Bool) {
        guard FileSystem.exists(lockFile) else { return (false, false) }
        let busy = ((try? FileLock.attempt(lockFile)) ?? nil) == nil
        return (busy, !busy && FileSystem.exists(runningMark))
    }
}
