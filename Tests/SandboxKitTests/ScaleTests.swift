import Foundation
import Testing
@testable import SandboxRecipes

/// `sandbox check` reads a recipe in time linear in its size: a generated recipe with 10,000 `env`
/// entries (which once took minutes) reads, resolves and reports with exact locations.
@Suite struct ScaleTests {
    static let header = "sandbox: big\nowner: acme\nservices:\n  db:\n    image: postgresql-15\nenv:\n"

    static func recipe(entries: Int, _ entry: (Int) -> String) -> String {
        var text = header
        for i in 0..<entries { text += entry(i) + "\n" }
        return text
    }

    @Test func tenThousandEnvEntriesResolve() throws {
        let fixture = try RecipeFixture(["Recipes/big.yml": Self.recipe(entries: 10_000) {
            "  VAR_\($0): postgres://{db.user}:{db.password}@{db.host}:{db.port}/app\($0)?schema={env.SCHEMA_\($0):-public}"
        }])
        defer { fixture.remove() }
        #expect(try fixture.check() == "ok")
        let sandbox = try fixture.resolve("big")
        #expect(sandbox.env.count == 10_000)
        let last = try #require(sandbox.env.last)
        #expect(last.name == "VAR_9999")
        #expect(last.location == SourceLocation(path: "Recipes/big.yml", line: 10_006, column: 3))
        #expect(last.value.references == ["db.user", "db.password", "db.host", "db.port", "env.SCHEMA_9999"])
    }

    @Test func tenThousandBadEntriesAreEachReportedAtTheirLine() throws {
        let output = try diagnose(["Recipes/big.yml": Self.recipe(entries: 10_000) { "  VAR_\($0): \"{db.prot}\"" }])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 30_000)
        #expect(lines.suffix(3).joined(separator: "\n") == #"""
        Recipes/big.yml:10006:14: error: unknown field 'prot' of service 'db' (did you mean 'port'?); known: host, port, user, password, url
          VAR_9999: "{db.prot}"
                     ^
        """#)
    }
}
