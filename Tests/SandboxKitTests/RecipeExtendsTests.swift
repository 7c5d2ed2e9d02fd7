import Foundation
import Testing
@testable import SandboxRecipes

/// `extends`: a sibling version is its sibling's recipe with a few keys changed, and it builds exactly the image
/// the recipe written out in full builds.
@Suite struct RecipeExtendsTests {
    static func sandbox(_ image: String) -> String {
        "sandbox: s\nowner: acme\nservices:\n  db:\n    image: \(image)\n"
    }

    static func stock(_ name: String) throws -> String { try #require(StockRecipes.files.first { $0.name == name + ".yml" }).text }

    /// The newer stock versions written out in full (the older recipe with the five lines that differ) resolve to the
    /// same content hash, engine and version as the stock recipes that extend the older ones: nothing is rebuilt.
    @Test(arguments: [
        ("postgresql-17", "postgresql-15", [("postgresql-15", "postgresql-17"), ("postgresql/15/", "postgresql/17/"), ("client-15", "client-17"),
                                            ("version: \"15\"", "version: \"17\""), ("debian:bookworm", "debian:trixie")]),
        ("mariadb-11.8", "mariadb-10.11", [("image: mariadb-10.11", "image: mariadb-11.8"), ("version: \"10.11\"", "version: \"11.8\""),
                                           ("debian:bookworm", "debian:trixie")]),
    ])
    func aStockSiblingThatExtendsBuildsWhatItsFullTextBuilds(name: String, parent: String, changes: [(String, String)]) throws {
        #expect(try Self.stock(name).contains("extends: \(parent)"))
        var full = try Self.stock(parent)
        for (from, to) in changes { full = full.replacingOccurrences(of: from, with: to) }
        let stock = try RecipeFixture(["Recipes/s.yml": Self.sandbox(name)])
        let written = try RecipeFixture(["Recipes/s.yml": Self.sandbox(name), "Images/\(name).yml": full])
        defer { stock.remove(); written.remove() }
        let a = try stock.resolve(), b = try written.resolve()
        #expect(a.images.map(\.hash) == b.images.map(\.hash))
        #expect(a.services[0].spec == b.services[0].spec)
        #expect(a.services[0].actions.keys.sorted() == b.services[0].actions.keys.sorted())
        #expect(a.services[0].freshHash == b.services[0].freshHash)
    }

    @Test func theChildsKeysReplaceTheParentsAndServiceAndActionsMergeKeyByKey() throws {
        let fixture = try RecipeFixture([
            "Recipes/s.yml": Self.sandbox("pg-tuned"),
            "Images/pg-tuned.yml": """
            image: pg-tuned
            extends: postgresql-15
            service:
              ready-timeout: 300
            actions:
              analyze:
                run: psql -h /tmp -p {port} -U {user} -c 'ANALYZE'
            """,
        ])
        defer { fixture.remove() }
        #expect(try fixture.check() == "ok")
        let service = try fixture.resolve().services[0]
        #expect(service.spec.readyTimeout == 300 && service.spec.engine == "postgresql" && service.spec.version == "15")
        #expect(Set(service.actions.keys).isSuperset(of: ["analyze", "sql", "create-database", "create-user"]))
        #expect(service.imageTag == "acme/pg-tuned:s")
    }

    @Test func mistakesNameTheCauseAndWhere() throws {
        #expect(try diagnose(["Recipes/s.yml": Self.sandbox("a"), "Images/a.yml": "image: a\nextends: nothing-here\n"])
            .contains("Images/a.yml:2:10: error: 'extends: nothing-here': there is no image recipe 'nothing-here'"))
        let circle = try diagnose(["Recipes/s.yml": Self.sandbox("a"), "Images/a.yml": "image: a\nextends: b\n",
                                   "Images/b.yml": "image: b\nextends: a\n"])
        #expect(circle.contains("'extends' goes round in a circle: a -> b -> a"), "\(circle)")
        let broken = try diagnose(["Recipes/s.yml": Self.sandbox("a"), "Images/a.yml": "image: a\nextends: b\n",
                                   "Images/b.yml": "image: b\nfrom: debian:bookworm\nbulid: []\n"])
        #expect(broken.contains("Images/a.yml:2:10: error: 'extends: b': Images/b.yml has errors of its own (unknown key 'bulid'"), "\(broken)")
        #expect(broken.contains("Images/b.yml:3:1: error: unknown key 'bulid'"), "\(broken)")
        #expect(!broken.contains("Images/a.yml:3"), "no mistake of b's is shown at a's lines: \(broken)")
        #expect(try diagnose(["Recipes/s.yml": Self.sandbox("a"), "Images/a.yml": "image: a\nextends: [x]\n"])
            .contains("'extends' names another image recipe"))
    }
}
