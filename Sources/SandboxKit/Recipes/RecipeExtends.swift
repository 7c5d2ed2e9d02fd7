import Foundation
import Yams

/// `extends: NAME` in an image recipe: the recipe is another one's with some keys changed, so sibling versions
/// (PostgreSQL 15 and 17, MariaDB 10.11 and 11.8) share one definition.
///
/// The merge is of the YAML documents, before anything is read: the child's top-level keys replace the parent's,
/// except `service` and `actions`, whose keys the child's replace one by one. What is read and hashed is the merged
/// recipe, so a recipe rewritten to `extends` with the same result builds the same image (same content hash).
enum RecipeExtends {
    /// An image recipe's text by name (a checkout's `Images/NAME.yml` first, then the stock one), for `extends`.
    typealias Parents = (String) -> (path: String, text: String)?

    static let maxDepth = 8

    /// The recipe's document with everything it extends merged in; nil (with a diagnostic) when it cannot be.
    static func merged(_ root: Node, _ reader: YAMLReader, directory: String?, parents: Parents, chain: [String] = []) -> Node? {
        guard let mapping = root.mapping, let node = mapping["extends"] else { return root }
        guard let name = node.string, !name.isEmpty else {
            reader.error(at: node, "'extends' names another image recipe, like 'extends: postgresql-15'")
            return nil
        }
        let own = mapping["image"]?.string ?? "?"
        if (chain + [own]).contains(name) {
            let circle = (chain + [own, name]).joined(separator: " -> ")
            reader.error(at: node, "'extends' goes round in a circle: \(circle); one of them must say everything itself")
            return nil
        }
        guard chain.count < maxDepth else {
            reader.error(at: node, "'extends' goes \(maxDepth) recipes deep; extend the recipe that says everything instead")
            return nil
        }
        guard let parent = parents(name) else {
            reader.error(at: node, "'extends: \(name)': there is no image recipe '\(name)' (Images/\(name).yml or a stock one); "
                             + "`sandbox check` lists what there is")
            return nil
        }
        // The parent is read whole first, so its mistakes are reported against its own file (when it is read for
        // itself) and never against the lines of this one.
        let parentReader = YAMLReader(path: parent.path, source: parent.text)
        let base = parentReader.root().flatMap { merged($0, parentReader, directory: directory, parents: parents, chain: chain + [own]) }
        guard let base, ImageRecipe.parse(parentReader, root: base, directory: directory) != nil, parentReader.diagnostics.isEmpty,
              var result = base.mapping else {
            let first = parentReader.diagnostics.first.map { " (\($0.message))" } ?? ""
            reader.error(at: node, "'extends: \(name)': \(parent.path) has errors of its own\(first); `sandbox check` shows them")
            return nil
        }
        result["extends"] = nil
        for (key, value) in mapping {
            guard let key = key.string, key != "extends" else { continue }
            if ["service", "actions"].contains(key), let child = value.mapping, var inherited = result[key]?.mapping {
                for (k, v) in child { inherited[k] = v }
                result[key] = .mapping(inherited)
            } else {
                result[key] = value
            }
        }
        return .mapping(result)
    }
}
