import Foundation
import Testing
@testable import SandboxRecipes

/// The recipes built into the tool are exactly the repository's Images/ (Scripts/gen-stock), and they are valid.
@Suite struct StockRecipeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func builtInRecipesMatchImagesFolder() throws {
        let folder = Self.root.appendingPathComponent("Images")
        // Recipes that build from the checkout (the demo's application) are the checkout's own, not stock ones.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { name in
            name.hasSuffix(".yml") && !((try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
                .split(separator: "\n").contains { $0.hasPrefix("context:") || $0.hasPrefix("dockerfile:") }
        }.sorted()
        #expect(StockRecipes.files.map(\.name).sorted() == names, "run Scripts/gen-stock")
        for file in StockRecipes.files {
            let text = try String(contentsOf: folder.appendingPathComponent(file.name), encoding: .utf8)
            #expect(file.text.trimmingCharacters(in: .newlines) == text.trimmingCharacters(in: .newlines), "\(file.name) differs from Images/; run Scripts/gen-stock")
        }
    }

    @Test func demoAndStockRecipesCheckClean() throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("Recipes"))
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("Recipes"), to: fixture.root.appendingPathComponent("Recipes"))
        try FileManager.default.createDirectory(at: fixture.root.appendingPathComponent("Images"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("Images/bookmarker.yml"),
                                         to: fixture.root.appendingPathComponent("Images/bookmarker.yml"))
        #expect(try fixture.check() == "ok")
        let demo = try fixture.resolve("demo")
        #expect(demo.images.map(\.tag) == ["debian:bookworm", "acme/postgresql-15:demo", "acme/mariadb-10.11:demo", "acme/redis-7:demo",
                                            "acme/bookmarker:demo"])
        #expect(demo.services.map(\.name) == ["pg", "pg.leases", "maria", "maria.leases", "cache", "web"])
        #expect(demo.service("pg.leases")?.lendsFor == "pg" && demo.service("pg")?.leases?.databases == ["bookmarker"])
        #expect(demo.service("web")?.dependsOn == ["pg", "maria", "cache"])
        #expect(demo.image("acme/bookmarker:demo")?.context?.files.keys.sorted() == [".dockerignore", "app.py"])
        for service in demo.services where service.spec.engine == "postgresql" || service.spec.engine == "mariadb" {
            #expect(Set(service.actions.keys).isSuperset(of: ["sql", "create-database", "create-user"]), "\(service.name)")
            #expect(service.spec.client != nil && service.spec.user == "sandbox", "\(service.name)")
        }
    }

    @Test func aRecipeBuiltOnAStockOneInheritsItsServiceAndActions() throws {
        let fixture = try RecipeFixture([
            "Recipes/gis.yml": "sandbox: gis\nowner: acme\nservices:\n  db:\n    image: postgis\n    setup:\n      - create-database: {name: maps}\n      - enable: {name: postgis}\n",
            "Images/postgis.yml": """
            image: postgis
            from: postgresql-15
            build:
              - apt: [postgresql-15-postgis-3]
            actions:
              enable: psql -U {user} -d maps -c "CREATE EXTENSION {name}"
            """,
        ])
        defer { fixture.remove() }
        let service = try #require(try fixture.resolve().service("db"))
        #expect(service.imageTag == "acme/postgis:gis")
        #expect(service.spec.engine == "postgresql" && service.spec.version == "15")
        #expect(service.setup.map(\.title) == ["create-database name=maps owner=sandbox", "enable name=postgis"])
    }
}
