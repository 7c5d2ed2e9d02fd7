import Foundation
import Testing
@testable import SandboxKit

/// SQL quoting per engine, as `{x|ident}` and `{x|literal}` apply it: hostile values become exactly this SQL text.
@Suite struct SQLQuotingTests {
    static let injection = "'; DROP TABLE x; --"

    @Test func postgresqlIdentifiersDoubleTheirQuotes() {
        let pg = SQLDialect.postgresql
        #expect(pg.identifier("shop") == #""shop""#)
        #expect(pg.identifier(#"a"b"#) == #""a""b""#)
        #expect(pg.identifier(#""""#) == #""""""""#)
        #expect(pg.identifier(Self.injection) == #""'; DROP TABLE x; --""#)
        #expect(pg.identifier("a`b\\c") == "\"a`b\\c\"")
        #expect(pg.identifier("two\nlines") == "\"two\nlines\"")
        #expect(pg.identifier("naïve 名前 🐘") == "\"naïve 名前 🐘\"")
    }

    @Test func postgresqlLiteralsDoubleSingleQuotesAndNothingElse() {
        let pg = SQLDialect.postgresql
        #expect(pg.literal("it's") == "'it''s'")
        #expect(pg.literal("") == "''")
        #expect(pg.literal(Self.injection) == "'''; DROP TABLE x; --'")
        // standard_conforming_strings: a backslash is an ordinary character.
        #expect(pg.literal(#"C:\temp\n"#) == #"'C:\temp\n'"#)
        #expect(pg.literal(#"say "hi""#) == #"'say "hi"'"#)
        #expect(pg.literal("a`b") == "'a`b'")
        #expect(pg.literal("line1\nline2\r\n") == "'line1\nline2\r\n'")
        #expect(pg.literal("naïve 名前 🐘") == "'naïve 名前 🐘'")
    }

    @Test func mariadbIdentifiersDoubleTheirBackticks() {
        let maria = SQLDialect.mariadb
        #expect(maria.identifier("shop") == "`shop`")
        #expect(maria.identifier("a`b") == "`a``b`")
        #expect(maria.identifier("``") == "``````")
        #expect(maria.identifier(Self.injection) == "`'; DROP TABLE x; --`")
        #expect(maria.identifier(#"a"b\c"#) == #"`a"b\c`"#)
        #expect(maria.identifier("naïve 名前 🐘") == "`naïve 名前 🐘`")
    }

    @Test func mariadbLiteralsEscapeWhatMysqlRealEscapeStringEscapes() {
        let maria = SQLDialect.mariadb
        #expect(maria.literal("it's") == #"'it\'s'"#)
        #expect(maria.literal("") == "''")
        #expect(maria.literal(Self.injection) == #"'\'; DROP TABLE x; --'"#)
        #expect(maria.literal(#"C:\temp\n"#) == #"'C:\\temp\\n'"#)
        #expect(maria.literal(#"say "hi""#) == #"'say \"hi\"'"#)
        #expect(maria.literal("nul\0byte") == #"'nul\0byte'"#)
        #expect(maria.literal("line1\nline2\r\n") == #"'line1\nline2\r\n'"#)
        #expect(maria.literal("ctrl\u{1A}z") == #"'ctrl\Zz'"#)
        #expect(maria.literal("a`b%_") == "'a`b%_'")
        #expect(maria.literal("naïve 名前 🐘") == "'naïve 名前 🐘'")
        // A backslash before a quote cannot unescape it: both are escaped.
        #expect(maria.literal(#"\'"#) == #"'\\\''"#)
    }

    @Test func engineNamesPickTheDialect() {
        #expect(SQLDialect(engine: "postgresql") == .postgresql)
        #expect(SQLDialect(engine: "mariadb") == .mariadb)
        #expect(SQLDialect(engine: "redis") == nil)
        #expect(SQLDialect(engine: "PostgreSQL") == nil)
    }
}

/// Template filters: `{x|ident}`, `{x|literal}`, with a default after the filter.
@Suite struct TemplateFilterTests {
    func parsed(_ raw: String) throws -> Template { try Template.parse(raw).get() }

    func error(_ raw: String) -> TemplateError? {
        if case let .failure(error) = Template.parse(raw) { return error }
        return nil
    }

    @Test func filtersAndDefaultsParse() throws {
        #expect(try parsed("CREATE DATABASE {name|ident};").referenceParts == [
            .init(name: "name", filter: .ident, defaultValue: nil, offset: 16),
        ])
        #expect(try parsed("{ env.PW | literal :-a|b:-c}").referenceParts == [
            .init(name: "env.PW", filter: .literal, defaultValue: "a|b:-c", offset: 0),
        ])
        #expect(try parsed("{a}{b:-x}{c|literal:-}").referenceParts == [
            .init(name: "a", offset: 0), .init(name: "b", defaultValue: "x", offset: 3),
            .init(name: "c", filter: .literal, defaultValue: "", offset: 9),
        ])
        #expect(try parsed("{{x|ident}}").referenceParts == [])
    }

    @Test func badFiltersAreReportedWithTheFix() {
        #expect(error("a {name|literl} b") == TemplateError(offset: 2, message: "'{name|literl}' has an unknown filter 'literl' (did you mean 'literal'?); filters are |ident and |literal"))
        #expect(error("{name|}") == TemplateError(offset: 0, message: "'{name|}' has an unknown filter ''; filters are |ident and |literal"))
        #expect(error("{name:-x|literal}") == TemplateError(offset: 0, message: "in '{name:-x|literal}' the filter is part of the default; write the filter first: {name|literal:-x}"))
        #expect(error("{|ident}") == TemplateError(offset: 0, message: "'{|ident}' is not a valid reference; references look like {name} or {service.port}; write '{{' for a literal brace"))
    }

    @Test func renderQuotesForSQLThenForTheShell() throws {
        let t = try parsed("printf '%s %s %s\\n' {a|ident} {b|literal} {c}")
        let values = ["a": "x\"y", "b": "it's", "c": "plain"]
        #expect(try t.render(quote: true, dialect: .postgresql) { values[$0] } == #"printf '%s %s %s\n' '"x""y"' ''\''it'\'''\''s'\''' plain"#)
        #expect(try t.render(quote: false, dialect: .mariadb) { values[$0] } == #"printf '%s %s %s\n' `x"y` 'it\'s' plain"#)
        #expect(try parsed("{d|literal:-none}").render(dialect: .postgresql) { _ in nil } == "'none'")
    }

    @Test func renderRefusesAFilterWithoutDialectAndANulInACommand() throws {
        #expect(throws: UnresolvedReference(name: "a", template: "x {a|ident}", reason: .noDialect, text: "{a|ident}")) {
            try parsed("x {a|ident}").render(quote: true) { _ in "v" }
        }
        #expect(throws: UnresolvedReference(name: "a", template: "{a|literal}", reason: .nul, text: "{a|literal}")) {
            try parsed("{a|literal}").render(quote: true, dialect: .postgresql) { _ in "a\0b" }
        }
        // MariaDB escapes NUL as \0, so nothing is left to refuse.
        #expect(try parsed("{a|literal}").render(quote: true, dialect: .mariadb) { _ in "a\0b" } == #"''\''a\0b'\'''"#)
        #expect(throws: UnresolvedReference(name: "a", template: "{a}")) {
            try parsed("{a}").render { _ in nil }
        }
    }
}
