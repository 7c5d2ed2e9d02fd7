import Foundation

/// A checkout with its recipes read: what every command starts from.
public struct Workspace: Sendable {
    public var checkout: Checkout
    public var recipes: RecipeSet
    public var docker: Docker

    /// Finds the checkout from `path` (or the current folder) and reads its recipes.
    public static func load(path: String?, docker: Docker = Docker()) throws(SandboxError) -> Workspace {
        let start = URL(fileURLWithPath: path ?? FileManager.default.currentDirectoryPath)
        let checkout = try Checkout.find(from: start)
        return Workspace(checkout: checkout, recipes: try RecipeSet.load(checkout), docker: docker)
    }

    /// Resolves one sandbox; recipe problems are thrown as `RecipeErrors`.
    public func resolve(_ name: String?) throws -> ResolvedSandbox {
        if !recipes.diagnostics.isEmpty {
            // Only the named sandbox's problems (and its images') block it; report them all, resolver's included.
            let check = try RecipeCheck(recipes, only: name)
            if !check.diagnostics.isEmpty { throw check.errors }
        }
        let recipe = try recipes.sandbox(named: name)
        return try Resolver(recipes).resolve(recipe)
    }

    public func instance(sandbox name: String?, instance: String) throws -> Instance {
        try InstanceLayout.validate(instance: instance)
        let resolved = try resolve(name)
        let layout = InstanceLayout(checkout: checkout, instance: instance)
        return Instance(docker: docker, layout: layout, sandbox: resolved, images: imageProvider)
    }

    /// Instance names found under `.sandbox/`.
    public var instanceNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkout.stateDirectory.path)) ?? []
        return names.filter { name in
            name != "golden" && !name.hasPrefix(".") && FileSystem.exists(checkout.stateDirectory.appendingPathComponent(name).appendingPathComponent("instance.json"))
        }.sorted()
    }
}
