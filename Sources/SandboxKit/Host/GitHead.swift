import Foundation
import SandboxEngine

/// The commit a checkout has checked out, for the record an instance keeps and the events it sends.
package enum GitHead {
    /// `git rev-parse HEAD` in `root`; nil when the checkout is not a git work tree (or git is missing).
    package static func commit(at root: URL) async -> String? {
        guard isWorkTree(root), let git = executable else { return nil }
        guard let result = try? await HostCommand.run(git, ["-C", root.path, "rev-parse", "--verify", "-q", "HEAD"]),
              result.status == 0 else { return nil }
        let sha = result.tail.trimmingCharacters(in: .whitespacesAndNewlines)
        return sha.count == 40 || sha.count == 64 ? sha : nil
    }

    /// A `.git` folder or file in `root` or a folder above it (cheap: no process when there is none).
    static func isWorkTree(_ root: URL) -> Bool {
        var folder = root.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) { return true }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return false }
            folder = parent
        }
    }

    static var executable: String? {
        ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
