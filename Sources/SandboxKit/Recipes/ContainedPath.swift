import Foundation

/// A path a recipe names, resolved with every symlink followed and held inside the folder it must stay in: a recipe
/// from a pushed branch may name `demo/x.sql`, never a host file through `../..`, an absolute path or a link.
package enum ContainedPath {
    package enum Problem: Error, Equatable {
        /// It leads outside `within`, as written or through a symlink (the real path it reaches).
        case escapes(String)
        case missing
    }

    /// The real path of `relative` under `base`, when it exists and stays inside `within`.
    package static func resolve(_ relative: String, under base: URL, within root: URL) -> Result<URL, Problem> {
        if relative.hasPrefix("/") { return .failure(.escapes(relative)) }
        let joined = base.appendingPathComponent(relative).path
        guard let real = realPath(joined) else {
            // A dangling link, or a link whose target is missing, is missing; one that points outside says so.
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: joined), target.hasPrefix("/") || target.contains("..") {
                let reached = URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: joined).deletingLastPathComponent()).standardized.path
                if !isInside(reached, realPath(root.path) ?? root.path) { return .failure(.escapes(reached)) }
            }
            return .failure(.missing)
        }
        let top = realPath(root.path) ?? root.standardizedFileURL.path
        return isInside(real, top) ? .success(URL(fileURLWithPath: real)) : .failure(.escapes(real))
    }

    /// Whether `path` is `folder` or inside it (both real, absolute paths).
    package static func isInside(_ path: String, _ folder: String) -> Bool {
        let f = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        return path == f || path.hasPrefix(f + "/")
    }

    /// realpath(3): the absolute path with every link followed; nil when something on the way does not exist.
    package static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
