import Foundation

/// An exclusive `flock` held for the life of the value's scope; released by the kernel if the process dies.
public final class FileLock: @unchecked Sendable {
    private let fd: Int32
    public let path: String

    /// Takes the lock, calling `waiting` once if another process holds it, then blocking until it is free.
    public init(_ url: URL, waiting: () -> Void = {}) throws(SandboxError) {
        try FileSystem.ensureDirectory(url.deletingLastPathComponent())
        path = url.path
        fd = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw SandboxError(.dataDirNotWritable, "cannot open the lock file \(url.path): \(String(cString: strerror(errno)))",
                               fix: "make \(url.deletingLastPathComponent().path) writable by you")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            waiting()
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        }
    }

    /// Tries once; nil when another process holds it.
    public static func attempt(_ url: URL) throws(SandboxError) -> FileLock? {
        var busy = false
        let lock = try FileLock(url, nonBlocking: &busy)
        return busy ? nil : lock
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
