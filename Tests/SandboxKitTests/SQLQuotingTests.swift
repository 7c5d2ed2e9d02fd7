import Foundation
import Testing
@testable import SandboxRecipes

/// SQL quoting as the stock image recipes declare it (`service.sql`) and `{x|ident}` and `{x|literal}` apply it:
/// hostile values become exactly this SQL text.
@Suite struct SQLQuotingTests {
    static let injection = "'; DROP TABLE x; --"

    /// The quoting the stock recipe `image` declares, read and resolved as a checkout's sandbox would.
    static func stock(_ image: String) throws -> SQLQuoting {
        let fixture = try RecipeFixture(["Recipes/s.yml": "sandbox: s\nowner: acme\nservices:\n  db:\n    image: \(image)\n"])
        defer { fixture.remove() }
        return try #require(try fixture.resolve().services[0].spec.sql)
    }

    static var postgresql: SQLQuoting { get throws { try stock("postgresql-15") } }
    static var mariadb: SQLQuoting { get throws { try stock("mariadb-10.11") } }

    @Test func postgresqlIdentifiersDoubleTheirQuotes() throws {
        let pg = try Self.postgresql
        #expect(pg.identifier.apply("shop") == #""shop""#)
        #expect(pg.identifier.apply(#"a"b"#) == #""a""b""#)
        #expect(pg.identifier.apply(#""""#) == #""""""""#)
        #expect(pg.identifier.apply(Self.injection) == #""'; DROP TABLE x; --""#)
        #expect(pg.identifier.apply("a`b\\c") == "\"a`b\\c\"")
        #expect(pg.identifier.apply("two\nlines") == "\"two\nlines\"")
        #expect(pg.identifier.apply("naïve 名前 🐘") == "\"naïve 名前 🐘\"")
    }

    @Test func postgresqlLiteralsDoubleSingleQuotesAndNothingElse() throws {
        let pg = try Self.postgresql
        #expect(pg.literal.apply("it's") == "'it''s'")
        #expect(pg.literal.apply("") == "''")
        #expect(pg.literal.apply(Self.injection) == "'''; DROP TABLE x; --'")
        // standard_conforming_strings: a backslash is an ordinary character.
        #expect(pg.literal.apply(#"C:\temp\n"#) == #"'C:\temp\n'"#)
        #expect(pg.literal.apply(#"say "hi""#) == #"'say "hi"'"#)
        #expect(pg.literal.apply("a`b") == "'a`b'")
        #expect(pg.literal.apply("line1\nline2\r\n") == "'line1\nline2\r\n'")
        #expect(pg.literal.apply("naïve 名前 🐘") == "'naïve 名前 🐘'")
    }

    @Test func mariadbIdentifiersDoubleTheirBackticks() throws {
        let maria = try Self.mariadb
        #expect(maria.identifier.apply("shop") == "`shop`")
        #expect(maria.identifier.apply("a`b") == "`a``b`")
        #expect(maria.identifier.apply("``") == "``````")
        #expect(maria.identifier.apply(Self.injection) == "`'; DROP TABLE x; --`")
        #expect(maria.identifier.apply(#"a"b\c"#) == #"`a"b\c`"#)
        #expect(maria.identifier.apply("naïve 名前 🐘") == "`naïve 名前 🐘`")
    }

    @Test func mariadbLiteralsEscapeWhatMysqlRealEscapeStringEscapes() throws {
        let maria = try Self.mariadb
        #expect(maria.literal.apply("it's") == #"'it\'s'"#)
        #expect(maria.literal.apply("") == "''")
        #expect(maria.literal.apply(Self.injection) == #"'\'; DROP TABLE x; --'"#)
        #expect(maria.literal.apply(#"C:\temp\n"#) == #"'C:\\temp\\n'"#)
        #expect(maria.literal.apply(#"say "hi""#) == #"'say \"hi\"'"#)
        #expect(maria.literal.apply("nul\0byte") == #"'nul\0byte'"#)
        #expect(maria.literal.apply("line1\nline2\r\n") == #"'line1\nline2\r\n'"#)
        #expect(maria.literal.apply("ctrl\u{1A}z") == #"'ctrl\Zz'"#)
        #expect(maria.literal.apply("a`b%_") == "'a`b%_'")
        #expect(maria.literal.apply("naïve 名前 🐘") == "'naïve 名前 🐘'")
        // A backslash before a quote cannot unescape it: both are escaped.
        #expect(maria.literal.apply(#"\'"#) == #"'\\\''"#)
    }

    @Test func newerVersionsQuoteAsTheirSiblingsDo() throws {
        #expect(try Self.stock("postgresql-17") == Self.postgresql)
        #expect(try Self.stock("mariadb-11.8") == Self.mariadb)
    }

    @Test func aQuotingThatLetsAValueEndTheQuotedTextIsRefused() throws {
        let text = try diagnose(kvService("""
            sql:
              identifier: {quote: '"'}
              literal: {quote: "''", escape: {"ab": "x"}}
            """))
        #expect(text.contains(#"'identifier''s 'escape' must say what the quote character '"' becomes inside the quoted text"#), "\(text)")
        #expect(text.contains(#"'literal''s 'quote' is the one character that opens and closes the quoted text, like '"'; got ''''"#), "\(text)")
        #expect(text.contains(#"each key of 'escape' is one character, like '"'; got 'ab'"#), "\(text)")
    }
}

/// Template filters: `{x|ident}`, `{x|literal}`, with a default after the filter.
@Suite struct TemplateFilterTests {
    static let pg = SQLQuoting(identifier: .init(quote: "\"", escape: ["\"": "\"\""]), literal: .init(quote: "'", escape: ["'": "''"]))
    static let maria = SQLQuoting(identifier: .init(quote: "`", escape: ["`": "``"]),
                                  literal: .init(quote: "'", escape: ["\0": "\\0", "'": "\\'", "\\": "\\\\"]))

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
        #expect(try t.render(quote: true, sql: Self.pg) { values[$0] } == #"printf '%s %s %s\n' '"x""y"' ''\''it'\'''\''s'\''' plain"#)
        #expect(try t.render(quote: false, sql: Self.maria) { values[$0] } == #"printf '%s %s %s\n' `x"y` 'it\'s' plain"#)
        #expect(try parsed("{d|literal:-none}").render(sql: Self.pg) { _ in nil } == "'none'")
    }

    @Test func renderRefusesAFilterWithoutDialectAndANulInACommand() throws {
        #expect(throws: UnresolvedReference(name: "a", template: "x {a|ident}", reason: .noQuoting, text: "{a|ident}")) {
            try parsed("x {a|ident}").render(quote: true) { _ in "v" }
        }
        #expect(throws: UnresolvedReference(name: "a", template: "{a|literal}", reason: .nul, text: "{a|literal}")) {
            try parsed("{a|literal}").render(quote: true, sql: Self.pg) { _ in "a\0b" }
        }
        // MariaDB escapes NUL as \0, so nothing is left to refuse.
        #expect(try parsed("{a|literal}").render(quote: true, sql: Self.maria) { _ in "a\0b" } == #"''\''a\0b'\'''"#)
        #expect(throws: UnresolvedReference(name: "a", template: "{a}")) {
            try parsed("{a}").render { _ in nil }
        }
    }
}
