import Foundation

/// A string with `{reference}` placeholders, as written in recipes.
///
/// `{{` and `}}` stand for literal braces. A reference may carry a filter that quotes its value for SQL,
/// `{name|ident}` or `{name|literal}`, and a default used when the referenced value is not set,
/// `{env.NAME:-fallback}`; with both, the filter comes first: `{env.NAME|literal:-fallback}`.
package struct Template: Sendable, Hashable, Codable, CustomStringConvertible {
    package enum Part: Sendable, Hashable, Codable {
        case text(String)
        case reference(Reference)
    }

    /// How a value is quoted for SQL before it is substituted (see `SQLQuoting`).
    package enum Filter: String, Sendable, Hashable, Codable, CaseIterable {
        /// A quoted identifier: a database, role or table name.
        case ident
        /// A quoted string literal: a password, a comment.
        case literal
    }

    package struct Reference: Sendable, Hashable, Codable {
        package var name: String
        package var filter: Filter?
        package var defaultValue: String?
        /// Where its `{` stands in the raw text, in characters from 0: diagnostics point there.
        package var offset: Int

        package init(name: String, filter: Filter? = nil, defaultValue: String? = nil, offset: Int = 0) {
            self.name = name
            self.filter = filter
            self.defaultValue = defaultValue
            self.offset = offset
        }

        /// As written, normalised: `{name|literal:-default}`.
        package var text: String {
            "{\(name)\(filter.map { "|\($0.rawValue)" } ?? "")\(defaultValue.map { ":-\($0)" } ?? "")}"
        }
    }

    package var raw: String
    package var parts: [Part]

    package init(raw: String, parts: [Part]) {
        self.raw = raw
        self.parts = parts
    }

    package var description: String { raw }

    /// Every reference, in order of appearance.
    package var referenceParts: [Reference] {
        parts.compactMap { if case let .reference(reference) = $0 { return reference } else { return nil } }
    }

    /// Referenced names in order of appearance.
    package var references: [String] { referenceParts.map(\.name) }

    /// Parses a template; on a malformed brace returns the column offset (0-based, in characters) and a message.
    package static func parse(_ raw: String) -> Result<Template, TemplateError> {
        var parts: [Part] = []
        var text = ""
        let chars = Array(raw)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "{" {
                if next == "{" { text.append("{"); i += 2; continue }
                guard let close = chars[(i + 1)...].firstIndex(of: "}") else {
                    return .failure(TemplateError(offset: i, message: "'{' is never closed; write '{{' for a literal brace"))
                }
                switch reference(chars[(i + 1)..<close], offset: i) {
                case let .failure(error): return .failure(error)
                case let .success(reference):
                    if !text.isEmpty { parts.append(.text(text)); text = "" }
                    parts.append(.reference(reference))
                }
                i = close + 1
            } else if c == "}" {
                if next == "}" { text.append("}"); i += 2; continue }
                return .failure(TemplateError(offset: i, message: "unmatched '}'; write '}}' for a literal brace"))
            } else {
                text.append(c)
                i += 1
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return .success(Template(raw: raw, parts: parts))
    }

    /// What stands between `{` and `}`: `name`, then `|filter`, then `:-default` (which may hold anything).
    static func reference(_ inner: ArraySlice<Character>, offset: Int) -> Result<Reference, TemplateError> {
        var head = inner
        var defaultValue: String?
        if let dash = inner.indices.first(where: { inner[$0] == ":" && $0 + 1 < inner.endIndex && inner[$0 + 1] == "-" }) {
            head = inner[..<dash]
            defaultValue = String(inner[(dash + 2)...])
        }
        var filterText: String?
        if let bar = head.firstIndex(of: "|") {
            filterText = trimmed(head[(bar + 1)...])
            head = head[..<bar]
        }
        let name = trimmed(head)
        var written: String { String(inner) }
        guard isReferenceName(name) else {
            return .failure(TemplateError(offset: offset, message: "'{\(written)}' is not a valid reference; "
                                          + "references look like {name} or {service.port}; write '{{' for a literal brace"))
        }
        var filter: Filter?
        if let filterText {
            guard let known = Filter(rawValue: filterText) else {
                let names = Filter.allCases.map(\.rawValue)
                let filters = names.map { "|\($0)" }.joined(separator: " and ")
                return .failure(TemplateError(offset: offset, message: "'{\(written)}' has an unknown filter '\(filterText)'"
                                              + "\(didYouMean(filterText, among: names)); filters are \(filters)"))
            }
            filter = known
        }
        if let defaultValue, let misplaced = Filter.allCases.first(where: { defaultValue.hasSuffix("|\($0.rawValue)") }) {
            let fixed = "{\(name)|\(misplaced.rawValue):-\(defaultValue.dropLast(misplaced.rawValue.count + 1))}"
            return .failure(TemplateError(offset: offset, message: "in '{\(written)}' the filter is part of the default; write the filter first: \(fixed)"))
        }
        return .success(Reference(name: name, filter: filter, defaultValue: defaultValue, offset: offset))
    }

    static func trimmed(_ chars: ArraySlice<Character>) -> String {
        var start = chars.startIndex, end = chars.endIndex
        while start < end, chars[start] == " " || chars[start] == "\t" { start += 1 }
        while end > start, chars[end - 1] == " " || chars[end - 1] == "\t" { end -= 1 }
        return String(chars[start..<end])
    }

    static func isReferenceName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        return segments.allSatisfy { segment in
            guard let first = segment.first, first.isLetter || first == "_" else { return false }
            return segment.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        }
    }

    /// Substitutes every reference. `lookup` returns nil for an unset value; a default is used then, and an
    /// unset reference without one is an error. A filter quotes the value for SQL by `sql`; with `quote`,
    /// the result is then quoted for `sh`, so it is safe for both.
    package func render(quote: Bool = false, sql: SQLQuoting? = nil,
                       _ lookup: (String) -> String?) throws(UnresolvedReference) -> String {
        var out = ""
        for part in parts {
            switch part {
            case let .text(text): out += text
            case let .reference(reference):
                guard var value = lookup(reference.name) ?? reference.defaultValue else {
                    throw UnresolvedReference(reference, template: raw, reason: .noValue)
                }
                if let filter = reference.filter {
                    guard let sql else { throw UnresolvedReference(reference, template: raw, reason: .noQuoting) }
                    value = sql.apply(filter, to: value)
                }
                if quote {
                    // A shell command is a C string: a NUL would cut it short wherever it stood.
                    if value.unicodeScalars.contains("\0") {
                        throw UnresolvedReference(reference, template: raw, reason: .nul)
                    }
                    value = shellQuote(value)
                }
                out += value
            }
        }
        return out
    }
}

package struct TemplateError: Error, Sendable, Equatable {
    package var offset: Int
    package var message: String
}

/// A reference that could not be filled in: it has no value and no default, its SQL filter has no quoting
/// declared to quote by, or (in a shell command) its value holds a NUL character.
package struct UnresolvedReference: Error, Sendable, Equatable {
    package enum Reason: Sendable, Equatable {
        case noValue
        case noQuoting
        /// A shell command cannot carry a NUL.
        case nul
    }

    package var name: String
    package var template: String
    package var reason: Reason
    /// The reference as written, normalised, for messages: `{name|literal}`.
    package var text: String

    package init(name: String, template: String, reason: Reason = .noValue, text: String? = nil) {
        self.name = name
        self.template = template
        self.reason = reason
        self.text = text ?? "{\(name)}"
    }

    init(_ reference: Template.Reference, template: String, reason: Reason) {
        self.init(name: reference.name, template: template, reason: reason, text: reference.text)
    }
}

/// Quotes a value for `sh`, so parameter values can never inject commands.
package func shellQuote(_ value: String) -> String {
    if !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0)) }) {
        return value
    }
    return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

