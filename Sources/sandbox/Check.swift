import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the checkout's recipes (or one sandbox and the images it uses); needs no Docker.",
            discussion: "Example:\n  sandbox check && echo recipes ok"
        )

        @Argument(help: "Check only this sandbox and what it uses.")
        var sandbox: String?

        @Option(name: .long, help: ArgumentHelp("The checkout (default: the nearest folder upwards with Recipes/).", valueName: "path"))
        var checkout: String?

        func run() async throws {
            try await reporting {
                let workspace = try Workspace.load(path: checkout)
                var diagnostics = workspace.recipes.diagnostics
                var names: [String] = []
                var steps = 0
                let targets = try sandbox.map { [try workspace.recipes.sandbox(named: $0)] } ?? workspace.recipes.sandboxes
                for recipe in targets {
                    do {
                        let resolved = try Resolver(workspace.recipes).resolve(recipe)
                        names.append(recipe.name)
                        steps += resolved.services.reduce(0) { $0 + $1.setup.count + $1.update.count }
                    } catch let error as RecipeErrors {
                        diagnostics += error.diagnostics
                    }
                }
                if let sandbox, let recipe = targets.first {
                    diagnostics = diagnostics.filter { $0.location.path == recipe.path || !$0.location.path.hasPrefix("Recipes/") }
                    _ = sandbox
                }
                if !diagnostics.isEmpty { throw RecipeErrors(Array(Set(diagnostics)), sources: workspace.recipes.sources) }
                say("ok: \(names.count) sandbox\(names.count == 1 ? "" : "es") (\(names.joined(separator: ", "))), \(workspace.recipes.images.count) image recipes, \(steps) steps; no errors")
            }
        }
    }
}
