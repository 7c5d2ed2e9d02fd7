import Foundation
import SandboxBase

/// An exclusive `flock` held for the life of the value; released by the kernel if the process dies. Never waits by
/// blocking a thread: `acquire` polls, so many waiters in `serve` cost no threads.
package final class FileLock: @unchecked Sendable {
    private let fd: Int32
    package let path: String

    /// Takes the lock without holding a thread while another holder has it (`serve` runs many operations on few
    /// threads): tries, then tries again at growing intervals up to 100 ms, calling `waiting` once. A cancelled task
    /// stops waiting with `instance-busy`.
    package static func acquire(_ url: URL, waiting: () -> Void) async throws(SandboxError) -> FileLock {
        if let lock = try attempt(url) { return lock }
        waiting()
        var pause = 5
        while true {
            do { try await Task.sleep(for: .milliseconds(pause)) } catch {
                throw SandboxError(.instanceBusy, "stopped waiting for \(url.lastPathComponent): the command was cancelled",
                                   fix: "run it again once the other command has finished")
            }
            if let lock = try attempt(url) { return lock }
            pause = min(pause * 2, 100)
        }
    }

    /// Tries once; nil when another process holds it. A lock taken on a file that was deleted (or replaced) meanwhile
    /// is no lock: the one that deleted it (a `destroy --delete-data` removes its instance's lock file) held it, and the
    /// next command makes a new file. So the file is opened again until the lock is on the file the path names.
    package static func attempt(_ url: URL) throws(SandboxError) -> FileLock? {
        while true {
            var busy = false
            let lock = try FileLock(url, nonBlocking: &busy)
            if busy { return nil }
            if lock.isCurrent { return lock }
        }
    }

    /// Whether the locked file is still the one at `path`.
    private var isCurrent: Bool {
        var held = stat(), named = stat()
        guard fstat(fd, &held) == 0, stat(path, &named) == 0 else { return false }
        return held.st_ino == named.st_ino && held.st_dev == named.st_dev
    }

    private init(_ url: URL, nonBlocking busy: inout Bool) throws(SandboxError) {
        try FileSystem.ensureDirectory(url.deletingLastPathComponent())
        path = url.path
        fd = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw SandboxError(.dataDirNotWritable, "cannot open the lock file \(url.path)", fix: "make the folder writable by you")
        }
        busy = flock(fd, LOCK_EX | LOCK_NB) != 0
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
