import Foundation
import SandboxBase
import SandboxEngine
import SandboxHost

/// Copies of data dirs: a reflink clone where the filesystem offers one, a plain copy elsewhere.
enum DataCopy {
    /// `cp -a --reflink=auto source destination`, with `destination` removed first and again on failure,
    /// so a failed copy never leaves a partial one (and never keeps a full disk full).
    static func copy(_ source: URL, to destination: URL, line: @escaping @Sendable (String) -> Void = { _ in }) async throws(SandboxError) {
        guard FileSystem.exists(source) else {
            throw SandboxError(.dataDirDamaged, "\(source.path) is missing", fix: "run the command again; the data is made anew")
        }
        try FileSystem.remove(destination)
        try FileSystem.ensureDirectory(destination.deletingLastPathComponent())
        let result = try await HostCommand.run("/bin/cp", ["-a", "--reflink=auto", source.path, destination.path])
        guard result.status != 0 else { return }
        try? FileSystem.remove(destination)
        throw failure(result.tail, destination.deletingLastPathComponent())
    }

    static func failure(_ output: String, _ folder: URL) -> SandboxError {
        let code: Int32
        if output.contains("No space left on device") || output.contains("Disk quota exceeded") { code = ENOSPC }
        else if output.contains("Read-only file system") { code = EROFS }
        else if output.contains("Operation not permitted") { code = EPERM }
        else if output.contains("Permission denied") { code = EACCES }
        else { code = EIO }
        var error = FileSystem.error(code, folder, doing: "copy data into")
        error.detail = Docker.tail(output, lines: 5)
        return error
    }
}
