import Foundation

/// A place in a recipe file, 1-based like a compiler's.
package struct SourceLocation: Sendable, Hashable, Comparable, Codable {
    package var path: String
    package var line: Int
    package var column: Int

    package init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    package static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.path, a.line, a.column) < (b.path, b.line, b.column)
    }
}

/// One problem found in a recipe, printed like a compiler error.
package struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    package var location: SourceLocation
    package var message: String

    package init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    package var description: String {
        "\(location.path):\(location.line):\(location.column): error: \(message)"
    }

    /// `path:line:col: error: message`, then the source line, then a caret under the column.
    package func rendered(source: String?) -> String {
        rendered(line: source.flatMap { Self.line(location.line, of: Self.lines(of: $0)) })
    }

    /// The same, given the offending line.
    func rendered(line full: String?) -> String {
        guard let full else { return description }
        // A long line (a recipe may hold one of thousands of characters) is shown around the caret only.
        var line = full
        var column = location.column
        let scalars = Array(full.unicodeScalars)
        if scalars.count > RecipeLimits.shownLine {
            let start = max(0, min(column - 1 - RecipeLimits.shownLine / 2, scalars.count - RecipeLimits.shownLine))
            let end = min(scalars.count, start + RecipeLimits.shownLine)
            line = (start > 0 ? "…" : "") + String(String.UnicodeScalarView(scalars[start..<end])) + (end < scalars.count ? "…" : "")
            column = column - start + (start > 0 ? 1 : 0)
        }
        let prefix = line.unicodeScalars.prefix(max(0, column - 1))
        // Keep tabs so the caret lines up under tab-indented text.
        let pad = String(String.UnicodeScalarView(prefix.map { $0 == "\t" ? "\t" : " " }))
        return "\(description)\n\(line)\n\(pad)^"
    }

    static func lines(of source: String) -> [Substring] {
        source.split(separator: "\n", omittingEmptySubsequences: false)
    }

    static func line(_ number: Int, of lines: [Substring]) -> String? {
        guard number >= 1, number <= lines.count else { return nil }
        let line = lines[number - 1]
        return String(line.hasSuffix("\r") ? line.dropLast() : line)
    }
}

/// Every diagnostic found while reading recipes, thrown as one error.
package struct RecipeErrors: Error, Sendable, CustomStringConvertible {
    package var diagnostics: [Diagnostic]
    /// Source text of each file, for rendering the offending line.
    package var sources: [String: String]

    package init(_ diagnostics: [Diagnostic], sources: [String: String]) {
        self.diagnostics = diagnostics.sorted { $0.location < $1.location }
        self.sources = sources
    }

    package var description: String {
        // Each file split once, however many of its lines are shown.
        var lines: [String: [Substring]] = [:]
        return diagnostics.map { diagnostic in
            let path = diagnostic.location.path
            if lines[path] == nil, let source = sources[path] { lines[path] = Diagnostic.lines(of: source) }
            return diagnostic.rendered(line: lines[path].flatMap { Diagnostic.line(diagnostic.location.line, of: $0) })
        }.joined(separator: "\n")
    }
}

/// Closest candidate by edit distance, for "did you mean" hints.
func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        let limit = max(1, min(3, candidate.count / 3 + 1))
        if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    if let best { return best.0 }
    // An abbreviation (`create-db` for `create-database`): the longest shared start, if it is most of the word.
    var prefixBest: (String, Int)?
    for candidate in candidates {
        let shared = zip(word.lowercased(), candidate.lowercased()).prefix { $0 == $1 }.count
        if shared >= max(4, word.count * 2 / 3), shared > (prefixBest?.1 ?? 0) { prefixBest = (candidate, shared) }
    }
    return prefixBest?.0
}

package func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
    if let s = suggestion(for: word, among: candidates) { return " (did you mean '\(s)'?)" }
    return ""
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
