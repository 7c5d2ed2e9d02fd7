import Foundation
import Yams

/// How one database engine quotes names and strings in SQL, as its image recipe declares under `service.sql`:
/// what the `{x|ident}` and `{x|literal}` template filters apply. Swift names no engine; the recipe says it.
///
///     sql:
///       identifier: {quote: '"', escape: {'"': '""'}}
///       literal: {quote: "'", escape: {"'": "''"}}
package struct SQLQuoting: Sendable, Equatable, Codable {
    /// One kind of quoted text: the character that opens and closes it, and what each special character becomes
    /// inside it. Every other character is written as it is.
    package struct Form: Sendable, Equatable, Codable {
        package var quote: String
        /// One Unicode scalar each (compared as scalars, not as canonically equivalent characters) → its escape.
        package var escape: [String: String]

        package init(quote: String, escape: [String: String]) {
            self.quote = quote
            self.escape = escape
        }

        package func apply(_ value: String) -> String {
            var table: [Unicode.Scalar: String] = [:]
            for (key, replacement) in escape { if let scalar = key.unicodeScalars.first { table[scalar] = replacement } }
            var out = quote
            // Unicode scalars, not Characters: "\r\n" is one Character but two characters to escape.
            for scalar in value.unicodeScalars {
                if let replacement = table[scalar] { out += replacement } else { out.unicodeScalars.append(scalar) }
            }
            return out + quote
        }
    }

    /// A quoted identifier (database, role, table).
    package var identifier: Form
    /// A quoted string literal (a password, a comment).
    package var literal: Form

    package init(identifier: Form, literal: Form) {
        self.identifier = identifier
        self.literal = literal
    }

    /// What a template filter does to a value.
    package func apply(_ filter: Template.Filter, to value: String) -> String {
        switch filter {
        case .ident: return identifier.apply(value)
        case .literal: return literal.apply(value)
        }
    }
}

extension ImageRecipe {
    static func parseSQL(_ reader: YAMLReader, _ node: Node) -> SQLQuoting? {
        guard let map = reader.mapping(node, what: "'sql'", allowed: ["identifier", "literal"], required: ["identifier", "literal"]),
              let identifierNode = map["identifier"], let literalNode = map["literal"] else { return nil }
        let identifier = parseSQLForm(reader, identifierNode, what: "'identifier'")
        let literal = parseSQLForm(reader, literalNode, what: "'literal'")
        guard let identifier, let literal else { return nil }
        return SQLQuoting(identifier: identifier, literal: literal)
    }

    private static func parseSQLForm(_ reader: YAMLReader, _ node: Node, what: String) -> SQLQuoting.Form? {
        guard let map = reader.mapping(node, what: what, allowed: ["quote", "escape"], required: ["quote"]),
              let quoteNode = map["quote"], let quote = reader.string(quoteNode, what: "'quote'") else { return nil }
        let before = reader.diagnostics.count
        if quote.unicodeScalars.count != 1 {
            reader.error(at: quoteNode, "\(what)'s 'quote' is the one character that opens and closes the quoted text, like '\"'; got '\(quote)'")
        }
        var escape: [String: String] = [:]
        if let escapeNode = map["escape"], let pairs = reader.stringMap(escapeNode, what: "'escape'") {
            for pair in pairs {
                if pair.key.unicodeScalars.count == 1 { escape[pair.key] = pair.value } else {
                    reader.error(at: pair.keyNode, "each key of 'escape' is one character, like '\"'; got '\(pair.key)'")
                }
            }
        }
        // A value holding the quote character, written as it is, would end the quoted text and run the rest as SQL.
        if quote.unicodeScalars.count == 1, escape[quote] == nil {
            reader.error(at: map["escape"] ?? quoteNode,
                         "\(what)'s 'escape' must say what the quote character '\(quote)' becomes inside the quoted text (like '\(quote)': "
                         + "'\(quote)\(quote)'): written as it is, a value holding it would end the quoted text early")
        }
        return reader.diagnostics.count == before ? SQLQuoting.Form(quote: quote, escape: escape) : nil
    }
}
