import Foundation

/// How one database engine quotes names and strings in SQL: what the `{x|ident}` and `{x|literal}`
/// template filters apply. An image recipe's `service.engine` picks it.
public enum SQLDialect: String, Sendable, CaseIterable {
    case postgresql, mariadb

    /// The dialect of an engine named in `service.engine`, or nil for an engine that has none known.
    public init?(engine: String) { self.init(rawValue: engine) }

    /// A quoted identifier (database, role, table): `"a""b"` in PostgreSQL, `` `a``b` `` in MariaDB.
    public func identifier(_ value: String) -> String {
        switch self {
        case .postgresql: return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case .mariadb: return "`" + value.replacingOccurrences(of: "`", with: "``") + "`"
        }
    }

    /// A quoted string literal. PostgreSQL: quotes doubled, nothing else special (standard_conforming_strings,
    /// on by default since 9.1). MariaDB: backslash escapes for what `mysql_real_escape_string` escapes
    /// (NUL, newline, CR, backslash, both quotes, Ctrl-Z), which holds unless sql_mode has NO_BACKSLASH_ESCAPES.
    public func literal(_ value: String) -> String {
        switch self {
        case .postgresql:
            return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
        case .mariadb:
            var out = "'"
            // Unicode scalars, not Characters: "\r\n" is one Character but two characters to escape.
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\0": out += "\\0"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\\": out += "\\\\"
                case "'": out += "\\'"
                case "\"": out += "\\\""
                case "\u{1A}": out += "\\Z"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "'"
        }
    }

    /// What a template filter does to a value in this dialect.
    public func apply(_ filter: Template.Filter, to value: String) -> String {
        switch filter {
        case .ident: return identifier(value)
        case .literal: return literal(value)
        }
    }
}
