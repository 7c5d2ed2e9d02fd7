import Foundation
import SandboxBase
import SandboxEngine
import SandboxHost
import SandboxObserve
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

    /// Takes the instance's lock for a whole command, then finishes or rolls back whatever a killed command left
    /// (a data switch half done, staged copies, data half deleted, temporary files, the private servers of an
    /// upgrade). With `wait` false, a held lock is `instance-busy`.
    package func lock(wait: Bool, reporter: any ProgressReporter, docker: Docker) async throws(SandboxError) -> InstanceSession {
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
        let session = InstanceSession(lock: lock, mark: runningMark, interrupted: interrupted)
        // A killed upgrade's servers outlive it and keep writing into the staged folders recovery deletes next.
        // With no engine answering, no container runs, and `snapshot delete` needs none: an unreachable engine is
        // skipped here (the next command asks again); any other failure of the removal stops the command.
        if interrupted {
            do { try await removeUpgradeServers(docker) } catch where error.code == .engineUnreachable || error.code == .dockerMissing {}
        }
        for done in try DataSwitch(layout: self).recover() { reporter.report(.message(done)) }
        try SnapshotStore(layout: self).recover()
        return session
    }

    /// Removes the private containers (role `upgrade`) a killed upgrade of this instance left running.
    func removeUpgradeServers(_ docker: Docker) async throws(SandboxError) {
        let left = try await Observer(docker: docker, layout: self).containers(role: "upgrade").values.map(\.id)
        try await docker.forceRemove(left.sorted())
    }
}
