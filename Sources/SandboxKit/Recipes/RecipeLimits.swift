import Foundation
import Yams

/// The sizes a recipe may have (docs/recipes.md, "Limits"): a recipe comes from whoever pushed a branch, and reading it
/// must take neither minutes nor gigabytes. Each limit is checked before the work it bounds, with one message.
package enum RecipeLimits {
    /// A recipe file's size: checked before it is read.
    package static let fileBytes = 2 << 20
    /// One value's length, in characters.
    package static let valueCharacters = 65_536
    /// How deep mappings and lists may nest.
    package static let depth = 64
    /// A source line is shown under a diagnostic up to this many characters around the caret.
    package static let shownLine = 160

    /// The first node deeper than `depth`, or longer than `valueCharacters`, with what is wrong; nil when none is.
    static func problem(in root: Node) -> (Node, String)? {
        var stack: [(Node, Int)] = [(root, 1)]
        while let (node, level) = stack.popLast() {
            if level > depth {
                return (node, "the file nests mappings and lists more than \(depth) levels deep; recipes are at most \(depth) levels deep")
            }
            switch node {
            case let .scalar(scalar) where scalar.string.count > valueCharacters:
                return (node, "a value of \(scalar.string.count) characters; values are at most \(valueCharacters) characters "
                            + "(put long text in a file under Recipes/ that a step reads)")
            case let .mapping(mapping):
                for (key, value) in mapping.reversed() { stack.append((value, level + 1)); stack.append((key, level + 1)) }
            case let .sequence(sequence):
                for item in sequence.reversed() { stack.append((item, level + 1)) }
            default: break
            }
        }
        return nil
    }
}

/// Every key that stands twice in one mapping of a file, found line by line (YAML's parser stops at the first): block
/// mappings by their indentation, and one-line flow mappings (`{a: 1, b: 2}`).
enum DuplicateKeys {
    struct Found: Equatable {
        var key: String
        var line: Int
        var column: Int
    }

    static func scan(_ source: String) -> [Found] {
        var found: [Found] = []
        // Open block mappings: their keys' column and the keys seen so far.
        var scopes: [(column: Int, keys: Set<String>)] = []
        for (index, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = commentStart(line) { line = line[..<hash] }
            let indent = line.prefix { $0 == " " }.count
            var rest = line.dropFirst(indent)
            guard !rest.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            var column = indent
            var startsItem = false
            while rest.hasPrefix("- ") || rest == "-" {
                startsItem = true
                rest = rest.dropFirst(2)
                column += 2
                let more = rest.prefix { $0 == " " }.count
                rest = rest.dropFirst(more)
                column += more
            }
            while let last = scopes.last, last.column > column || (startsItem && last.column >= column) { scopes.removeLast() }
            if let key = blockKey(rest) {
                if let last = scopes.last, last.column == column {
                    if last.keys.contains(key) { found.append(Found(key: key, line: index + 1, column: column + 1)) }
                    scopes[scopes.count - 1].keys.insert(key)
                } else {
                    scopes.append((column, [key]))
                }
            }
            // A one-line flow mapping: `{a: 1, a: 2}`.
            if let open = rest.firstIndex(of: "{"), let close = rest.lastIndex(of: "}"), open < close {
                var keys: Set<String> = []
                for part in rest[rest.index(after: open)..<close].split(separator: ",") {
                    guard let colon = part.firstIndex(of: ":") else { continue }
                    let key = part[..<colon].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                    if !key.isEmpty, !keys.insert(key).inserted {
                        let offset = rest.distance(from: rest.startIndex, to: part.startIndex) + (part.count - part.drop { $0 == " " }.count)
                        found.append(Found(key: key, line: index + 1, column: column + offset + 1))
                    }
                }
            }
        }
        return found
    }

    /// `key:` (plain or quoted) at the start of `text`, followed by a space or the end.
    static func blockKey(_ text: Substring) -> String? {
        if let quote = text.first, quote == "\"" || quote == "'" {
            guard let end = text.dropFirst().firstIndex(of: quote) else { return nil }
            let after = text[text.index(after: end)...]
            guard after.hasPrefix(":") && (after.count == 1 || after.dropFirst().first == " ") else { return nil }
            return String(text[text.index(after: text.startIndex)..<end])
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let key = text[..<colon]
        let after = text[colon...].dropFirst()
        guard !key.isEmpty, !key.contains(where: { "{[\"'#&*!|>%@`".contains($0) }), after.isEmpty || after.first == " " else { return nil }
        return key.trimmingCharacters(in: .whitespaces)
    }

    /// Where a comment starts: a `#` at the start or after a space, outside quotes.
    static func commentStart(_ line: Substring) -> Substring.Index? {
        var quote: Character?
        var previous: Character = " "
        for index in line.indices {
            let c = line[index]
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == "#" && previous == " " { return index }
            previous = c
        }
        return nil
    }
}
