import Foundation
import SandboxBase

/// A source checkout holding `Recipes/` and, optionally, its own `Images/`.
package struct Checkout: Sendable, Equatable {
    package var root: URL

    package init(root: URL) { self.root = root.standardizedFileURL }

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

    /// Short and unique per checkout path, so two checkouts of one repo never share names.
    package var id: String { String(ContentHash.of(data: Data(root.path.utf8)).prefix(8)) }

    /// A path as shown to people: relative to the checkout where possible.
    package func display(_ path: String) -> String {
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
