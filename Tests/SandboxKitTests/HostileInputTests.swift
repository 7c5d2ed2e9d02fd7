import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxObserve

/// Input from someone else (a pushed branch's recipes and files, a CI variable): it may run what it likes inside its own
/// containers and nothing more. Each case found from outside, as a regression, plus generated ones.
@Suite struct HostileInputTests {
    static let shop = """
    sandbox: shop
    owner: acme
    services:
      pg:
        image: postgresql-15
        setup:
          - sql: {database: shop, file: shop/schema.sql}
    """

    static func link(_ fixture: RecipeFixture, _ path: String, to target: String) throws {
        let url = fixture.root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    @Test func aLinkUnderRecipesToAHostFileIsRefusedWhereTheStepNamesIt() throws {
        let fixture = try RecipeFixture(["Recipes/shop.yml": Self.shop.replacingOccurrences(of: "shop/schema.sql", with: "shop/shadow.sql")])
        defer { fixture.remove() }
        try Self.link(fixture, "Recipes/shop/shadow.sql", to: "/etc/passwd")
        let out = try fixture.check()
        #expect(out.hasPrefix("Recipes/shop.yml:7:31: error: 'shop/shadow.sql' leads outside Recipes/ (to /etc/passwd)"), "\(out)")
        #expect(!out.contains("root:"), "the host file's content is shown")
    }

    @Test func aLinkedFolderAndALinkedFileInAFolderAreRefused() throws {
        let shop = Self.shop.replacingOccurrences(of: "shop/schema.sql", with: "shop/migrations/")
        let fixture = try RecipeFixture(["Recipes/shop.yml": shop, "Recipes/shop/migrations/0001.sql": "select 1;\n"])
        defer { fixture.remove() }
        try Self.link(fixture, "Recipes/shop/migrations/0002.sql", to: "/etc/hostname")
        #expect(try fixture.check().contains("'shop/migrations/0002.sql' leads outside Recipes/ (to /etc/hostname)"))
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("Recipes/shop/migrations"))
        try Self.link(fixture, "Recipes/shop/migrations", to: "/etc")
        #expect(try fixture.check().contains("'shop/migrations/' leads outside Recipes/ (to /etc)"))
    }

    @Test func aRecipeFileThatIsALinkOutsideIsNeverRead() throws {
        let fixture = try RecipeFixture(["Recipes/shop.yml": Self.shop, "Recipes/shop/schema.sql": "select 1;\n"])
        defer { fixture.remove() }
        try Self.link(fixture, "Recipes/evil.yml", to: "/etc/passwd")
        let out = try fixture.check()
        #expect(out.contains("Recipes/evil.yml is a link to /etc/passwd, outside the checkout; recipes are read only from inside it"), "\(out)")
        #expect(!out.contains("root:x"), "\(out)")
    }

    @Test func anImageCopyOrAContextThroughALinkIsRefused() throws {
        let fixture = try RecipeFixture(["Recipes/shop.yml": Self.shop.replacingOccurrences(of: "postgresql-15", with: "app"),
                                         "Recipes/shop/schema.sql": "select 1;\n",
                                         "Images/app.yml": "image: app\nfrom: postgresql-15\nbuild:\n  - copy: {src: conf, dest: /etc/conf}\n"])
        defer { fixture.remove() }
        try Self.link(fixture, "Images/conf", to: "/etc/passwd")
        #expect(try fixture.check().contains("'conf' leads outside Images/ (to /etc/passwd)"))
        try fixture.write("Images/app.yml", "image: app\nfrom: postgresql-15\ncontext: app\n")
        try Self.link(fixture, "app", to: "/etc")
        #expect(try fixture.check().contains("'context' must be inside the checkout, relative to it; 'app' leads to /etc"))
    }

    @Test func aFileSwappedForALinkAfterTheCheckIsNotRead() throws {
        let fixture = try RecipeFixture(["Recipes/shop.yml": Self.shop, "Recipes/shop/schema.sql": "select 1;\n"])
        defer { fixture.remove() }
        let step = try #require(try fixture.resolve().services.first?.setup.first)
        let file = fixture.root.appendingPathComponent("Recipes/shop/schema.sql")
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "/etc/passwd")
        let command = DockerCommand.exec("c", user: "u", script: "true", stdinFile: step.stdinFile)
        #expect(throws: SandboxError.self) { _ = try command.input() }
    }

    /// `run:` steps and every action: a substituted value is one shell word, whatever it holds.
    @Test func aRunStepQuotesEveryValue() throws {
        let hostile = ["x; touch /tmp/pwned", "$(touch /tmp/p)", "`id`", "a'b\"c", "--help", "a\nb", "*", "~root", "x|y&z>w"]
        var rng = SplitMix64(state: 0xBAD5EED)
        for (index, value) in (hostile + (0..<200).map { _ in Self.random(&rng) }).enumerated() {
            let recipe = Self.shop.replacingOccurrences(of: "    setup:\n      - sql: {database: shop, file: shop/schema.sql}",
                                                        with: "    update:\n      - run: echo {env.INJ} and {env.INJ:-d}")
            let fixture = try RecipeFixture(["Recipes/shop.yml": recipe])
            defer { fixture.remove() }
            let sandbox = try fixture.resolve()
            let pg = try #require(sandbox.service("pg"))
            let rendering = Rendering(sandbox: sandbox, instance: "dev", ports: [:], stamps: [:], environment: ["INJ": value])
            if value.unicodeScalars.contains("\0") { continue }
            #expect(try rendering.step(pg.update[0], service: pg) == "echo \(shellQuote(value)) and \(shellQuote(value))", "case \(index)")
        }
    }

    /// The stock `sql` action's database is a name: never an option for the MariaDB client, never a connection string for psql.
    @Test func theStockSQLActionsDatabaseIsANameNeverAnOptionOrAConnectionString() throws {
        let recipe = """
        sandbox: shop
        owner: acme
        services:
          pg:
            image: postgresql-15
            update:
              - sql: {database: "{env.D}", file: shop/x.sql}
          maria:
            image: mariadb-10.11
            update:
              - sql: {database: "{env.D}", file: shop/x.sql}
        """
        let fixture = try RecipeFixture(["Recipes/shop.yml": recipe, "Recipes/shop/x.sql": "select 1;\n"])
        defer { fixture.remove() }
        let sandbox = try fixture.resolve()
        let pg = try #require(sandbox.service("pg")), maria = try #require(sandbox.service("maria"))
        func render(_ service: ResolvedService, _ value: String) throws -> String {
            try Rendering(sandbox: sandbox, instance: "dev", ports: [:], stamps: [:], environment: ["D": value]).step(service.update[0], service: service)
        }
        // An option: refused by the parameter's type before it reaches any command.
        let option = #expect(throws: SandboxError.self) { try render(maria, "--execute=system touch /tmp/p") }
        #expect(option?.code == .stepFailed && option?.fix == RecipeMessages.nameRule)
        // Not an option: one value of --database=, a (missing) database's name.
        #expect(try render(maria, "x --execute=system id").hasSuffix("--batch --database='x --execute=system id'"))
        // A libpq connection string: a database's name, through PGDATABASE (which libpq never reads as one).
        let conninfo = try render(pg, "dbname=x options=-csearch_path=evil host=10.0.0.1")
        #expect(conninfo.hasPrefix("PGDATABASE='dbname=x options=-csearch_path=evil host=10.0.0.1' psql ") && !conninfo.contains(" -d "), "\(conninfo)")
    }

    @Test func aNULInALiteralValueIsACheckErrorAndInAVariableStopsThePlan() throws {
        let recipe = Self.shop.replacingOccurrences(of: "    setup:\n      - sql: {database: shop, file: shop/schema.sql}",
                                                    with: "    setup:\n      - create-user: {name: app, secret: \"a\\0b\"}")
        #expect(try diagnose(["Recipes/shop.yml": recipe]).contains("the value of parameter 'secret' of action 'create-user' holds a NUL character"))
        let fixture = try RecipeFixture(["Recipes/shop.yml": Self.shop.replacingOccurrences(of: "database: shop,", with: "database: \"{env.DB}\","),
                                         "Recipes/shop/schema.sql": "select 1;\n"])
        defer { fixture.remove() }
        #expect(Observer.unusableVariables(try fixture.resolve(), environment: ["DB": "a\u{0}b"]) == ["DB"])
    }
}

extension HostileInputTests {
    static func random(_ rng: inout SplitMix64) -> String {
        let alphabet = Array(" \t\n;|&$`'\"\\(){}[]<>*?~#!%=,.:/-_abcXYZ019é€\u{1F600}")
        return String((0..<(1 + rng.below(12))).map { _ in alphabet[rng.below(alphabet.count)] })
    }
}
