import Foundation
import SandboxBase

/// Reads every recipe of a checkout, plus the stock image recipes, collecting every diagnostic.
package struct RecipeSet: Sendable {
    package var checkout: Checkout
    package var sandboxes: [SandboxRecipe]
    /// By component name: the checkout's own first, then stock ones it does not override.
    package var images: [String: ImageRecipe]
    package var diagnostics: [Diagnostic]
    package var sources: [String: String]
    /// Image recipes that exist but did not parse, by name (file name without .yml) to their path.
    package var brokenImages: [String: String] = [:]
    /// Sandbox recipes with errors, holding the parts that read cleanly (see `SandboxRecipe.complete`).
    package var incomplete: [SandboxRecipe] = []
    /// How many recipe files were read.
    package var fileCount: Int

    package var errors: RecipeErrors { RecipeErrors(diagnostics, sources: sources) }

    /// Reads `Recipes/*.yml`, `Images/*.yml` and the stock recipes. Never throws for recipe problems:
    /// they land in `diagnostics`.
    package static func load(_ checkout: Checkout, stock: [StockRecipes.File] = StockRecipes.files) throws(SandboxError) -> RecipeSet {
        var set = RecipeSet(checkout: checkout, sandboxes: [], images: [:], diagnostics: [], sources: [:], fileCount: 0)
        set.brokenImages = [:]
        // What `extends` may name: the checkout's Images/NAME.yml, else the stock recipe of that name.
        let local = yamlFiles(in: checkout.imagesDirectory)
        let parents: RecipeExtends.Parents = { name in
            if let file = local.first(where: { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension == name }),
               let data = FileManager.default.contents(atPath: file) {
                return (checkout.display(file), String(decoding: data, as: UTF8.self))
            }
            return stock.first { $0.name == name + ".yml" }.map { ("<stock>/\($0.name)", $0.text) }
        }
        for file in local {
            set.readImage(path: file, directory: checkout.imagesDirectory.path, parents: parents)
        }
        var stockNames: Set<String> = []
        for file in stock {
            let name = (file.name as NSString).deletingPathExtension
            guard set.images[name] == nil, !set.hasImageFile(name) else { continue }
            let reader = YAMLReader(path: "<stock>/\(file.name)", source: file.text)
            set.sources[reader.path] = file.text
            if let recipe = ImageRecipe.parse(reader, directory: nil, parents: parents) { set.images[recipe.name] = recipe; stockNames.insert(name) }
            set.diagnostics += reader.diagnostics
        }
        for file in yamlFiles(in: checkout.recipesDirectory) {
            let display = checkout.display(file)
            guard let text = read(file, display: display, into: &set) else { continue }
            set.fileCount += 1
            let reader = YAMLReader(path: display, source: text)
            // Parsed once: a second pass over the same reader doubled the work and, when the root did not
            // parse, reported its errors twice.
            if let recipe = SandboxRecipe.parse(reader) {
                if !recipe.complete {
                    set.incomplete.append(recipe)
                } else if let other = set.sandboxes.first(where: { $0.name == recipe.name }) {
                    set.diagnostics.append(Diagnostic(SourceLocation(path: display, line: 1, column: 1),
                                                      "sandbox '\(recipe.name)' is also defined in \(other.path); sandbox names must be unique"))
                } else {
                    set.sandboxes.append(recipe)
                }
            }
            set.diagnostics += reader.diagnostics
        }
        if set.sandboxes.isEmpty && set.diagnostics.isEmpty && yamlFiles(in: checkout.recipesDirectory).isEmpty {
            throw SandboxError(.noRecipes, "Recipes/ in \(checkout.root.path) holds no .yml sandbox recipe",
                               fix: "add one, like Recipes/app.yml; see docs/recipes.md")
        }
        return set
    }

    private func expected(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    private func hasImageFile(_ name: String) -> Bool {
        images.values.contains { ($0.path as NSString).lastPathComponent == "\(name).yml" }
    }

    private mutating func readImage(path: String, directory: String, parents: RecipeExtends.Parents) {
        let display = checkout.display(path)
        guard let text = Self.read(path, display: display, into: &self) else { return }
        fileCount += 1
        let reader = YAMLReader(path: display, source: text)
        if let recipe = ImageRecipe.parse(reader, directory: directory, parents: parents) {
            let expected = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if recipe.name != expected {
                reader.error(at: SourceLocation(path: display, line: 1, column: 1),
                             "image recipe '\(recipe.name)' is in \(expected).yml; rename the file to Images/\(recipe.name).yml "
                                + "or set 'image: \(expected)' (sandbox recipes find images by file name)")
            } else {
                images[recipe.name] = recipe
            }
        }
        if images[expected(path)] == nil { brokenImages[expected(path)] = display }
        diagnostics += reader.diagnostics
    }

    private static func read(_ path: String, display: String, into set: inout RecipeSet) -> String? {
        // A recipe that is a link to a file outside the checkout is never read: its text would show in diagnostics.
        let checkout = set.checkout.root
        if case let .failure(.escapes(reached)) = ContainedPath.resolve(display, under: checkout, within: checkout) {
            set.diagnostics.append(Diagnostic(SourceLocation(path: display, line: 1, column: 1),
                                              "\(display) is a link to \(reached), outside the checkout; recipes are read only from inside it"))
            return nil
        }
        // Refused before it is read: a file of megabytes is no recipe, and reading it would take the time and memory it asks.
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        if size > RecipeLimits.fileBytes {
            let mib = Formatting.fixed(Double(size) / 1_048_576, places: 1)
            set.diagnostics.append(Diagnostic(SourceLocation(path: display, line: 1, column: 1),
                                              "\(display) is \(mib) MiB; a recipe file is at most 2 MiB (put data in files under Recipes/ that steps read)"))
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            set.diagnostics.append(Diagnostic(SourceLocation(path: display, line: 1, column: 1), "cannot read the file"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            set.diagnostics.append(Diagnostic(SourceLocation(path: display, line: 1, column: 1), "the file is not UTF-8 text"))
            return nil
        }
        set.sources[display] = text
        return text
    }

    static func yamlFiles(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { ($0.hasSuffix(".yml") || $0.hasSuffix(".yaml")) && !$0.hasPrefix(".") }
            .sorted().map { directory.appendingPathComponent($0).path }
    }

    /// The sandbox to act on: the named one, or the only one.
    package func sandbox(named name: String?) throws(SandboxError) -> SandboxRecipe {
        if let name {
            if let s = sandboxes.first(where: { $0.name == name }) { return s }
            let names = sandboxes.map(\.name)
            throw SandboxError(.unknownSandbox, "no sandbox named '\(name)' in Recipes/\(didYouMean(name, among: names))",
                               fix: names.isEmpty ? "add Recipes/\(name).yml" : "use one of: \(names.joined(separator: ", "))")
        }
        if sandboxes.count == 1 { return sandboxes[0] }
        if sandboxes.isEmpty {
            throw SandboxError(.noRecipes, "Recipes/ holds no valid sandbox recipe", fix: "run `sandbox check` to see what is wrong")
        }
        throw SandboxError(.ambiguousSandbox, "Recipes/ holds \(sandboxes.count) sandboxes: \(sandboxes.map(\.name).joined(separator: ", "))",
                           fix: "name one: sandbox up \(sandboxes[0].name)")
    }
}
