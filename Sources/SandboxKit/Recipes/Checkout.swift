import Foundation
import SandboxBase

/// A source checkout holding `Recipes/` and, optionally, its own `Images/`.
package struct Checkout: Sendable, Equatable {
    package let root: URL

    package init(root: URL) {
        self.root = root.standardizedFileURL
        goldenRoot = (Self.mainWorktree(of: self.root) ?? self.root).appendingPathComponent(".sandbox").appendingPathComponent("golden")
    }

    /// The checkout containing `directory`: the nearest folder upwards that has `Recipes/`.
    package static func find(from directory: URL) throws(SandboxError) -> Checkout {
        var current = directory.standardizedFileURL
        while true {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: current.appendingPathComponent("Recipes").path, isDirectory: &isDir), isDir.boolValue {
                return Checkout(root: current)
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        throw SandboxError(.noRecipes, "no Recipes/ folder in \(directory.path) or any folder above it",
                           fix: "run sandbox inside a checkout that has Recipes/*.yml, or pass --checkout PATH")
    }

    package var recipesDirectory: URL { root.appendingPathComponent("Recipes") }
    package var imagesDirectory: URL { root.appendingPathComponent("Images") }
    package var stateDirectory: URL { root.appendingPathComponent(".sandbox") }

    /// Golden data dirs, keyed by recipe hashes: the main worktree's, shared by every linked git worktree of the
    /// repository (a preview of a branch copies what the checkout already made, it does not initialise anew).
    /// Read once, when the checkout is found: every layout asks for it.
    package let goldenRoot: URL

    /// For a linked git worktree (its `.git` a file naming `<repo>/.git/worktrees/<name>`), the main worktree's root;
    /// nil for a main worktree, a bare repository's worktree, or a folder outside git.
    package static func mainWorktree(of root: URL) -> URL? {
        let dotGit = root.appendingPathComponent(".git")
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let named = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        let gitDir = named.hasPrefix("/") ? URL(fileURLWithPath: named) : root.appendingPathComponent(named)
        guard let common = try? String(contentsOf: gitDir.appendingPathComponent("commondir"), encoding: .utf8) else { return nil }
        let path = common.trimmingCharacters(in: .whitespacesAndNewlines)
        let commonDir = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDir.appendingPathComponent(path)).standardizedFileURL
        // Only what `git worktree add` makes: the admin folder is `<common>/worktrees/<name>` and names this folder back. A
        // `.git` file pointing anywhere else (an unpacked archive, a crafted checkout) shares nothing.
        let admin = gitDir.standardizedFileURL
        guard commonDir.lastPathComponent == ".git", admin.deletingLastPathComponent().path == commonDir.appendingPathComponent("worktrees").path,
              let back = try? String(contentsOf: admin.appendingPathComponent("gitdir"), encoding: .utf8),
              URL(fileURLWithPath: back.trimmingCharacters(in: .whitespacesAndNewlines)).standardizedFileURL.path == dotGit.standardizedFileURL.path
        else { return nil }
        return URL(fileURLWithPath: commonDir.deletingLastPathComponent().path)
    }

    /// The linked worktrees of the repository whose main worktree is `main` that still exist (git's own list, read from
    /// `.git/worktrees/*/gitdir`): the checkouts that share its golden data.
    package static func linkedWorktrees(of main: URL) -> [URL] {
        let admin = main.appendingPathComponent(".git").appendingPathComponent("worktrees")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: admin.path)) ?? []).sorted()
        return names.compactMap { name in
            guard let text = try? String(contentsOf: admin.appendingPathComponent(name).appendingPathComponent("gitdir"), encoding: .utf8) else { return nil }
            let dotGit = URL(fileURLWithPath: text.trimmingCharacters(in: .whitespacesAndNewlines))
            let root = dotGit.deletingLastPathComponent().standardizedFileURL
            return FileManager.default.fileExists(atPath: dotGit.path) ? root : nil
        }
    }

    /// Short and unique per checkout path, so two checkouts of one repo never share names.
    package var id: String { String(ContentHash.of(data: Data(root.path.utf8)).prefix(8)) }

    /// A path as shown to people: relative to the checkout where possible.
    package func display(_ path: String) -> String {
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
