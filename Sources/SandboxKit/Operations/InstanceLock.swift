import Foundation

extension InstanceLayout {
    /// Takes the instance's lock for a whole command, then finishes or rolls back whatever a killed command left
    /// (a data switch half done, staged copies, temporary files). With `wait` false, a held lock is `instance-busy`.
    public func lock(wait: Bool, reporter: any ProgressReporter) throws(SandboxError) -> FileLock {
        let lock: FileLock
        if wait {
            lock = try FileLock(lockFile) { reporter.report(.message(Messages.waiting(instance))) }
        } else {
            guard let taken = try FileLock.attempt(lockFile) else { throw Messages.busy(instance) }
            lock = taken
        }
        for done in try DataSwitch(layout: self).recover() { reporter.report(.message(done)) }
        try SnapshotStore(layout: self).recover()
        return lock
    }
}
