import Foundation

/// A string with `{reference}` placeholders, as written in recipes.
///
/// `{{` and `}}` stand for literal braces. A reference may carry a default,
/// `{env.NAME:-fallback}`, used when the referenced value is not set.
public struct Template: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Part: Sendable, Hashable, Codable {
        case text(String)
        case reference(String, defaultValue: String?)
    }

    public var raw: String
    public var parts: [Part]

    public var description: String { raw }

    /// References in order of appearance.
    public var references: [String] {
        parts.compactMap { if case let .reference(name, _) = $0 { return name } else { return nil } }
    }

    /// Parses a template; on a malformed brace returns the column offset (0-based, in characters) and a message.
    public static func parse(_ raw: String) -> Result<Template, TemplateError> {
        var parts: [Part] = []
        var text = ""
        var chars = Array(raw)
        var i = 0
        chars.append("\0")
        while i < chars.count - 1 {
            let c = chars[i]
            if c == "{" {
                if chars[i + 1] == "{" { text.append("{"); i += 2; continue }
                guard let close = chars[(i + 1)...].firstIndex(of: "}"), close < chars.count - 1 else {
                    return .failure(TemplateError(offset: i, message: "'{' is never closed; write '{{' for a literal brace"))
                }
                let inner = String(chars[(i + 1)..<close])
                var name = inner
                var defaultValue: String?
                if let range = inner.range(of: ":-") {
                    name = String(inner[..<range.lowerBound])
                    defaultValue = String(inner[range.upperBound...])
                }
                name = name.trimmingCharacters(in: .whitespaces)
                guard isReferenceName(name) else {
                    return .failure(TemplateError(offset: i, message: "'{\(inner)}' is not a valid reference; references look like {name} or {service.port}; write '{{' for a literal brace"))
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.reference(name, defaultValue: defaultValue))
                i = close + 1
            } else if c == "}" {
                if chars[i + 1] == "}" { text.append("}"); i += 2; continue }
                return .failure(TemplateError(offset: i, message: "unmatched '}'; write '}}' for a literal brace"))
            } else {
                text.append(c)
                i += 1
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return .success(Template(raw: raw, parts: parts))
    }

    static func isReferenceName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        return segments.allSatisfy { segment in
            guard let first = segment.first, first.isLetter || first == "_" else { return false }
            return segment.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        }
    }

    /// Substitutes every reference. `lookup` returns nil for an unset value;
    /// a default is used then, and an unset reference without one is an error.
    public func render(quote: Bool = false, _ lookup: (String) -> String?) throws(UnresolvedReference) -> String {
        var out = ""
        for part in parts {
            switch part {
            case let .text(text): out += text
            case let .reference(name, defaultValue):
                guard let value = lookup(name) ?? defaultValue else { throw UnresolvedReference(name: name, template: raw) }
                out += quote ? shellQuote(value) : value
            }
        }
        return out
    }
}

public struct TemplateError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
}

public struct UnresolvedReference: Error, Sendable, Equatable {
    public var name: String
    public var template: String
}

/// Quotes a value for `sh`, so parameter values can never inject commands.
public func shellQuote(_ value: String) -> String {
    if !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0)) }) {
        return value
    }
    return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
