import Foundation
@testable import SandboxRecipes

/// A throwaway checkout on disk: recipes and the files they read, as `sandbox check` would see them.
struct RecipeFixture {
    let root: URL

    init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-recipes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Recipes"), withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    var checkout: Checkout { Checkout(root: root) }

    func set() throws -> RecipeSet { try RecipeSet.load(checkout) }

    /// What `sandbox check` prints: every diagnostic, rendered, or "ok" when the recipes resolve.
    func check() throws -> String {
        let check = try RecipeCheck(set())
        return check.diagnostics.isEmpty ? "ok" : check.errors.description
    }

    func resolve(_ name: String? = nil) throws -> ResolvedSandbox {
        let set = try set()
        return try Resolver(set).resolve(try set.sandbox(named: name))
    }
}

/// Builds the check output for a set of files and cleans up after.
func diagnose(_ files: [String: String]) throws -> String {
    let fixture = try RecipeFixture(files)
    defer { fixture.remove() }
    return try fixture.check()
}

/// A sandbox of one service on a minimal image recipe `kv` (no SQL, no connection forms) plus `service`'s extra keys,
/// written at the indentation of the keys under `service:`.
func kvService(_ extra: String) -> [String: String] {
    ["Recipes/s.yml": "sandbox: s\nowner: acme\nservices:\n  db:\n    image: kv\n",
     "Images/kv.yml": """
     image: kv
     from: debian:bookworm
     service:
       run-as: kv
       port: 1
       engine: kv
       version: "1"
       start: kv
       ready: "true"

     """ + extra.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")]
}
