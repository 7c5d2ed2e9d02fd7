import Foundation
import Subprocess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure no child process outlives `sandbox`, however it ends (SIGKILL included).
///
/// Children (docker, cp, debootstrap) are started in one process group led by a watcher: a `sh` that blocks
/// reading a pipe only this process holds open. When this process ends, the kernel closes the pipe, the read
/// returns, and the watcher kills its whole group. A child of a killed `sandbox` can then never go on writing
/// into a folder the next command is cleaning up.
package final class ChildGuard: Sendable {
    package static let shared = ChildGuard()

    private struct Watcher { var pid: pid_t; var pipe: Int32 }
    private let watcher = Mutex<Watcher?>(nil)

    /// Options for a child that runs unattended: in the guarded group, stopped with SIGTERM then SIGKILL
    /// if the task running it is cancelled.
    package func options() -> PlatformOptions {
        var options = PlatformOptions()
        options.processGroupID = group()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
        return options
    }

    /// Options for a child attached to the terminal (exec, shell, logs --follow): it must stay in the foreground group.
    package static func attached() -> PlatformOptions {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
        return options
    }

    /// The guarded process group, its watcher started on first use; nil if it cannot be started.
    package func group() -> pid_t? {
        watcher.withLock { (w: inout Watcher?) -> pid_t? in
            if let current = w, kill(current.pid, 0) == 0 { return current.pid }
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return nil }
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
            // `kill 0` signals the watcher's own group: every guarded child, and the watcher itself.
            let argv = ["/bin/sh", "-c", "read _; kill -KILL 0"]
            var cArgs = argv.map { strdup($0) } + [nil]
            defer { for p in cArgs { free(p) } }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &cArgs, environ)
            close(fds[0])
            guard result == 0 else {
                close(fds[1])
                return nil
            }
            if let old = w { close(old.pipe) }
            w = Watcher(pid: pid, pipe: fds[1])
            return pid
        }
    }
}
