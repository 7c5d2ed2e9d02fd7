import Foundation
import Yams

/// Walks a composed YAML tree and collects diagnostics instead of stopping at
/// the first problem, so that `sandbox check` reports every error in a file.
package final class YAMLReader {
    let path: String
    let source: String
    package private(set) var diagnostics: [Diagnostic] = []
    /// The source split into lines once: every node asks for its location, and splitting the whole
    /// file on each ask made reading a recipe quadratic in its size (5,000 env entries took minutes).
    private lazy var lines: [Substring] = source.split(separator: "\n", omittingEmptySubsequences: false)

    package init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    /// The document's root, or nil with a diagnostic for broken YAML, or for a document past the limits (`RecipeLimits`).
    package func root() -> Node? {
        do {
            guard let node = try Yams.compose(yaml: source) else {
                error(at: nil, "the file is empty; expected a mapping of keys")
                return nil
            }
            if let (deep, message) = RecipeLimits.problem(in: node) {
                error(at: deep, message)
                return nil
            }
            return node
        } catch let yaml as YamlError {
            switch yaml {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                if problem.contains("yaml_set_max_nest_level") || problem.contains("nest") && problem.contains("level") {
                    diagnostics.append(Diagnostic(location(mark), "the file nests mappings and lists too deep to read; "
                                                      + "recipes are at most \(RecipeLimits.depth) levels deep"))
                    return nil
                }
                let detail = context.map { "\(problem) (\($0.text))" } ?? problem
                diagnostics.append(Diagnostic(location(mark), "invalid YAML: \(detail)"))
            case let .duplicatedKeysInMapping(duplicates, context):
                // YAML's parser stops at the first mapping with one; every duplicate of the file is reported, once.
                let all = DuplicateKeys.scan(source)
                for found in all {
                    diagnostics.append(Diagnostic(SourceLocation(path: path, line: found.line, column: found.column),
                                                  "duplicate key '\(found.key)'; each key may appear once in a mapping"))
                }
                if all.isEmpty {
                    let names = duplicates.sorted()
                    diagnostics.append(Diagnostic(secondOccurrence(of: names.first ?? "", after: context.mark) ?? location(context.mark),
                                                  "duplicate key \(names.map { "'\($0)'" }.joined(separator: ", ")); each key may appear once in a mapping"))
                }
            case let .reader(problem, _, _, _):
                error(at: nil, "invalid YAML: \(problem)")
            default:
                error(at: nil, "invalid YAML: \(yaml)")
            }
            return nil
        } catch {
            self.error(at: nil, "invalid YAML: \(error)")
            return nil
        }
    }

    /// Where a duplicated key appears the second time: the first line after `mark` that starts with it.
    func secondOccurrence(of key: String, after mark: Mark?) -> SourceLocation? {
        var seen = false
        let start = mark?.line ?? 1
        for (index, line) in lines.enumerated() where index + 1 >= start {
            let trimmed = line.drop { $0 == " " || $0 == "-" }
            guard trimmed.hasPrefix(key), trimmed.dropFirst(key.count).drop(while: { $0 == " " }).first == ":" else { continue }
            if seen { return SourceLocation(path: path, line: index + 1, column: line.count - trimmed.count + 1) }
            seen = true
        }
        return nil
    }

    /// A mark as a location inside the file: the parser may point one past the end (a missing closing
    /// bracket), which is shown at the end of the last line instead.
    func location(_ mark: Mark?) -> SourceLocation {
        var line = max(1, mark?.line ?? 1), column = max(1, mark?.column ?? 1)
        if line > lines.count || (line == lines.count && line > 1 && lines[line - 1].isEmpty) {
            line = max(1, min(line, lines.count))
            if line > 1, lines[line - 1].isEmpty { line -= 1 }  // the empty "line" after a final newline
            column = (lines.isEmpty ? 0 : lines[line - 1].count) + 1
        }
        return SourceLocation(path: path, line: line, column: column)
    }

    package func error(at node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(location(node?.mark), message))
    }

    func error(at location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    // MARK: Shapes

    /// A mapping's entries in file order, keyed by string.
    package struct Entries {
        var pairs: [(key: String, keyNode: Node, value: Node)]
        package subscript(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        func keyNode(_ key: String) -> Node? { pairs.first { $0.key == key }?.keyNode }
    }

    /// Reads a mapping, rejecting unknown keys (with a suggestion) and reporting missing required ones.
    package func mapping(_ node: Node, what: String, allowed: [String], required: [String] = []) -> Entries? {
        guard case let .mapping(mapping) = resolved(node) else {
            error(at: node, "\(what) must be a mapping, not \(describe(node))")
            return nil
        }
        var entries = Entries(pairs: [])
        var misspelled: Set<String> = []
        for (keyNode, value) in mapping {
            guard let key = scalarString(keyNode) else {
                error(at: keyNode, "keys in \(what) must be plain strings")
                continue
            }
            if !allowed.contains(key) {
                error(at: keyNode, "unknown key '\(key)' in \(what)\(didYouMean(key, among: allowed))")
                if let near = suggestion(for: key, among: allowed) { misspelled.insert(near) }
                continue
            }
            entries.pairs.append((key, keyNode, value))
        }
        for key in required where entries[key] == nil && !misspelled.contains(key) {
            error(at: node, "\(what) is missing required key '\(key)'")
        }
        return entries
    }

    /// A mapping whose keys are names chosen by the user (services, actions, env).
    func namedMapping(_ node: Node, what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case let .mapping(mapping) = resolved(node) else {
            error(at: node, "\(what) must be a mapping, not \(describe(node))")
            return nil
        }
        var out: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = scalarString(keyNode) else {
                error(at: keyNode, "keys in \(what) must be plain strings")
                continue
            }
            out.append((key, keyNode, value))
        }
        return out
    }

    package func sequence(_ node: Node, what: String) -> [Node]? {
        guard case let .sequence(sequence) = resolved(node) else {
            error(at: node, "\(what) must be a list, not \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    /// A scalar read as text. Numbers and booleans are accepted and kept as written.
    package func string(_ node: Node, what: String) -> String? {
        if let s = scalarString(node) { return s }
        error(at: node, "\(what) must be a string, not \(describe(node))")
        return nil
    }

    package func nonEmptyString(_ node: Node, what: String) -> String? {
        guard let s = string(node, what: what) else { return nil }
        if s.trimmingCharacters(in: .whitespaces).isEmpty {
            error(at: node, "\(what) must not be empty")
            return nil
        }
        return s
    }

    package func int(_ node: Node, what: String, range: ClosedRange<Int>) -> Int? {
        guard case let .scalar(scalar) = resolved(node), scalar.style == .plain, let value = Int(scalar.string) else {
            error(at: node, "\(what) must be a whole number, not \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(at: node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            return nil
        }
        return value
    }

    func bool(_ node: Node, what: String) -> Bool? {
        if case let .scalar(scalar) = resolved(node), scalar.style == .plain {
            switch scalar.string {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        error(at: node, "\(what) must be true or false, not \(describe(node))")
        return nil
    }

    /// A list of strings; a single string is accepted as a one-element list.
    func stringList(_ node: Node, what: String) -> [String]? {
        if case .scalar = resolved(node), let s = scalarString(node) { return [s] }
        guard let items = sequence(node, what: what) else { return nil }
        var out: [String] = []
        var ok = true
        for item in items {
            if let s = string(item, what: "each item of \(what)") { out.append(s) } else { ok = false }
        }
        return ok ? out : nil
    }

    func stringMap(_ node: Node, what: String) -> [(key: String, keyNode: Node, value: String, valueNode: Node)]? {
        guard let pairs = namedMapping(node, what: what) else { return nil }
        var out: [(String, Node, String, Node)] = []
        for (key, keyNode, value) in pairs {
            if let s = string(value, what: "'\(key)' in \(what)") { out.append((key, keyNode, s, value)) }
        }
        return out
    }

    // MARK: Helpers

    package func scalarString(_ node: Node) -> String? {
        if case let .scalar(scalar) = resolved(node) {
            // A plain `~` or `null` is no value at all, not the text "null".
            if scalar.style == .plain, ["~", "null", "Null", "NULL", ""].contains(scalar.string) { return nil }
            return scalar.string
        }
        return nil
    }

    func resolved(_ node: Node) -> Node {
        node
    }

    package func describe(_ node: Node) -> String {
        switch resolved(node) {
        case let .scalar(scalar):
            if scalar.style == .plain, ["~", "null", "Null", "NULL", ""].contains(scalar.string) { return "nothing" }
            let text = scalar.string.count > 30 ? String(scalar.string.prefix(27)) + "..." : scalar.string
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
