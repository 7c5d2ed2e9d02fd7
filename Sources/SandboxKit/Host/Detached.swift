import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process that outlives the command that starts it: a session of its own (outside the guarded group that
/// `ChildGuard` kills, and away from the terminal's Ctrl-C and hang-up), /dev/null for its standard files, and no
/// other inherited file (a pipe a caller reads to its end, like `$(sandbox up)` or `serve`'s, closes when the command
/// exits, not when the child does). Not waited for: it is re-parented when the command exits.
package enum Detached {
    @discardableResult
    package static func start(_ argv: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let path = argv.first else { return false }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(Self.newSession | Int32(POSIX_SPAWN_SETSIGMASK)))
        // The secret stays with the command: the events it spooled are signed already.
        let env = environment.filter { $0.key != "SANDBOX_NOTIFY_SECRET" }.map { "\($0.key)=\($0.value)" }
        let cArgs = argv.map { strdup($0) } + [nil], cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        return posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv) == 0
    }

    #if canImport(Glibc)
    /// glibc's POSIX_SPAWN_SETSID (2.26 and later), which its module map leaves out (a GNU extension).
    static let newSession: Int32 = 0x80
    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), found at run time for the same reason.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #else
    static let newSession = Int32(POSIX_SPAWN_SETSID) | Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
    private static let addCloseFrom: ((UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = nil
    #endif
}
