import Foundation
import SandboxBase
import SandboxRecipes

/// The files an image built from a checkout was built from (path to hash), by the image's content hash, so a later plan
/// can say which file changed: `app/app.py changed`. Images are the engine's, shared by every checkout of a sandbox, so
/// the lists are kept beside them, per user (`~/.cache/sandbox/images/`), not in one checkout: a cache, whose loss only
/// makes a plan say "image recipe changed".
package enum ImageManifest {
    static var folder: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSTemporaryDirectory()).appendingPathComponent(".cache")
        return cache.appendingPathComponent("sandbox").appendingPathComponent("images")
    }

    static func file(_ hash: String) -> URL { folder.appendingPathComponent(String(hash.filter { $0.isLetter || $0.isNumber }.prefix(64)) + ".json") }

    package static func read(hash: String) -> [String: String]? {
        guard let data = FileManager.default.contents(atPath: file(hash).path) else { return nil }
        return try? JSONDecoder().decode([String: String].self, from: data)
    }

    /// Written once the image is built; not flushed (a cache).
    package static func write(_ files: [String: String], hash: String) { try? FileSystem.writeJSON(files, to: file(hash), mode: 0o644, durable: false) }
}
