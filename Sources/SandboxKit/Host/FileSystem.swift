import Foundation
import SandboxBase

/// Host file operations that must be atomic, durable or private, with errors that name the cause.
package enum FileSystem {
    /// Written to a temporary file, flushed to disk, then renamed over `url`: a crash leaves the old file or the new one.
    /// With `durable` false it is not flushed: readers still see the old file or the whole new one, but a power cut may lose it.
    package static func writeAtomically(_ data: Data, to url: URL, mode: Int, durable: Bool = true) throws(SandboxError) {
        try ensureDirectory(url.deletingLastPathComponent())
        // Unique per call: two threads (services converging side by side) may write the same file at once.
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        let fd = open(temp.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(mode))
        if fd < 0 { throw error(errno, temp.deletingLastPathComponent(), doing: "write \(url.lastPathComponent) in") }
        var failure: Int32 = 0
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && durable && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temp.path, url.path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp.path)
            throw error(failure, url.deletingLastPathComponent(), doing: "write \(url.lastPathComponent) in")
        }
    }

    /// `value` as JSON (sorted keys, ISO 8601 dates, readable), written atomically: every state file sandbox keeps.
    package static func writeJSON<T: Encodable>(_ value: T, to url: URL, mode: Int, durable: Bool = true) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw SandboxError(.io, "cannot encode \(url.lastPathComponent): \(error)", fix: "this is a bug in sandbox; report it")
        }
        try writeAtomically(data, to: url, mode: mode, durable: durable)
    }

    /// Whether `name` is a temporary file `writeAtomically` leaves behind when killed.
    package static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    package static func ensureDirectory(_ url: URL, mode: Int = 0o755) throws(SandboxError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code ?? Int(EACCES)
            throw Self.error(Int32(code), url.deletingLastPathComponent(), doing: "create \(url.lastPathComponent) in")
        }
    }

    package static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    package static func isEmptyDirectory(_ url: URL) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? ["x"]).isEmpty
    }

    /// Checks a folder is writable by really creating a file in it (permission bits alone lie for root and ACLs).
    package static func checkWritable(_ url: URL) throws(SandboxError) {
        let probe = url.appendingPathComponent(".write-test-\(getpid())")
        let fd = open(probe.path, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw error(errno, url, doing: "write in") }
        close(fd)
        unlink(probe.path)
    }

    /// Renames atomically; both paths are on the same filesystem.
    package static func move(_ from: URL, to: URL) throws(SandboxError) {
        if rename(from.path, to.path) != 0 { throw error(errno, from.deletingLastPathComponent(), doing: "move \(from.lastPathComponent) in") }
    }

    /// Deletes a file or folder tree; a missing one is fine.
    package static func remove(_ url: URL) throws(SandboxError) {
        guard exists(url) || (try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)) != nil else { return }
        do { try FileManager.default.removeItem(at: url) } catch {
            throw SandboxError(.dataDirNotWritable, "cannot delete \(url.path): \(error.localizedDescription)",
                               fix: getuid() == 0 ? Messages.notWritable(url.path)
                                   : "files there belong to another user; remove them with `sudo rm -rf \(url.path)`")
        }
    }

    /// Flushes everything written on the filesystem holding `url` to disk (a stamp is written only after this).
    package static func syncFilesystem(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        if let syncfs = Self.syncfs { _ = syncfs(fd) } else { sync() }
        close(fd)
    }

    /// Linux's syncfs(2), which Glibc's module map leaves out (it is a GNU extension).
    private static let syncfs: (@convention(c) (Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    /// An error for a failed file operation, by what the system said: a full disk, a folder that cannot be written, or else.
    package static func error(_ code: Int32, _ folder: URL, doing: String) -> SandboxError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT:
            return SandboxError(.diskFull, "cannot \(doing) \(folder.path): the disk is full (\(reason))", fix: Messages.diskFullFix)
        case EROFS:
            return SandboxError(.dataDirNotWritable, "cannot \(doing) \(folder.path): the filesystem is read-only",
                                fix: "remount it read-write, or move the checkout to a writable disk")
        case EACCES, EPERM:
            return SandboxError(.dataDirNotWritable, "cannot \(doing) \(folder.path) (\(reason))", fix: Messages.notWritable(folder.path))
        default:
            return SandboxError(.io, "cannot \(doing) \(folder.path) (\(reason))", fix: "check the folder and the disk (`df -h`, `dmesg`)")
        }
    }
}
