import Foundation

/// Host file operations that must be atomic or private.
public enum FileSystem {
    public static func writeAtomically(_ data: Data, to url: URL, mode: Int) throws(SandboxError) {
        // Unique per call: two threads (services converging side by side) may write the same file at once.
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            try ensureDirectory(url.deletingLastPathComponent())
            guard FileManager.default.createFile(atPath: temp.path, contents: data, attributes: [.posixPermissions: mode]) else {
                throw SandboxError(.dataDirNotWritable, "cannot write \(url.path)",
                                   fix: "make \(url.deletingLastPathComponent().path) writable by you (chmod u+w, or chown it back to your user)")
            }
            chmod(temp.path, mode_t(mode))
            if rename(temp.path, url.path) != 0 {
                throw SandboxError(.io, "cannot replace \(url.path): \(String(cString: strerror(errno)))", fix: "check the folder's permissions")
            }
        } catch let error as SandboxError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            throw SandboxError(.io, "cannot write \(url.path): \(error.localizedDescription)", fix: "check the folder's permissions")
        }
    }

    public static func ensureDirectory(_ url: URL, mode: Int = 0o755) throws(SandboxError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw SandboxError(.dataDirNotWritable, "cannot create \(url.path): \((error as NSError).localizedDescription)",
                               fix: "make the parent folder writable by you (chmod u+w), or remove what is in the way")
        }
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    public static func isEmptyDirectory(_ url: URL) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? ["x"]).isEmpty
    }

    /// Checks a folder is writable by really creating a file in it (permission bits alone lie for root and ACLs).
    public static func checkWritable(_ url: URL) throws(SandboxError) {
        let probe = url.appendingPathComponent(".write-test-\(getpid())")
        let fd = open(probe.path, O_CREAT | O_WRONLY | O_EXCL, 0o600)
        if fd < 0 {
            let reason = String(cString: strerror(errno))
            throw SandboxError(.dataDirNotWritable, "\(url.path) is not writable (\(reason))",
                               fix: "make it writable by you: chmod u+w \(url.path) (or chown it back to your user; `chattr -i` if it is immutable)")
        }
        close(fd)
        unlink(probe.path)
    }

    /// Renames atomically; both paths are on the same filesystem.
    public static func move(_ from: URL, to: URL) throws(SandboxError) {
        if rename(from.path, to.path) != 0 {
            throw SandboxError(.io, "cannot move \(from.path) to \(to.path): \(String(cString: strerror(errno)))",
                               fix: "check that nothing else holds \(to.path)")
        }
    }
}
