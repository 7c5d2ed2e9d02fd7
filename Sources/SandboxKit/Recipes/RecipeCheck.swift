import Foundation
import SandboxBase

/// What `sandbox check` reports: every diagnostic of the checkout's recipes (or of one sandbox and the
/// images it uses), or a summary of what resolved cleanly.
package struct RecipeCheck: Sendable {
    package var diagnostics: [Diagnostic]
    package var sources: [String: String]
    package var sandboxes: [ResolvedSandbox]
    package var imageCount: Int

    package var errors: RecipeErrors { RecipeErrors(diagnostics, sources: sources) }
    package var stepCount: Int { sandboxes.reduce(0) { $0 + $1.services.reduce(0) { $0 + $1.setup.count + $1.update.count } } }

    /// Reads nothing itself: checks what `set` holds, resolving each sandbox (or only `only`).
    package init(_ set: RecipeSet, only: String? = nil) throws(SandboxError) {
        var diagnostics = set.diagnostics
        var targets = set.incomplete.filter { only == nil || $0.name == only }
        if let only, targets.isEmpty { targets = [try set.sandbox(named: only)] } else if only == nil { targets += set.sandboxes }
        var resolved: [ResolvedSandbox] = []
        for recipe in targets {
            do { resolved.append(try Resolver(set).resolve(recipe)) } catch { diagnostics += error.diagnostics }
        }
        if only != nil, let recipe = targets.first {
            // Another sandbox's mistakes are not this one's; broken image recipes are everyone's.
            diagnostics = diagnostics.filter { $0.location.path == recipe.path || !$0.location.path.hasPrefix("Recipes/") }
        }
        var seen: Set<Diagnostic> = []
        self.diagnostics = diagnostics.filter { seen.insert($0).inserted }.sorted { $0.location < $1.location }
        self.sources = set.sources
        self.sandboxes = resolved
        self.imageCount = set.images.count
    }
}
