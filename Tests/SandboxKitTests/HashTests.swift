import Foundation
import Testing
@testable import SandboxRecipes
@testable import SandboxHost

/// Content hashes decide what is rebuilt and rerun: unchanged by layout, changed by anything that changes the result.
@Suite struct HashTests {
    static let sandbox = """
    sandbox: shop
    owner: acme
    services:
      db:
        image: app-db
        setup:
          - create-database: {name: shop}
          - sql: {database: shop, file: db/schema.sql}
        update:
          - sql: {database: shop, file: db/migrations/}
      cache:
        image: app-db
        update:
          - run: echo {instance}
    env:
      URL: postgres://{db.user}@{db.host}:{db.port}/shop
    """

    /// The same recipe with keys reordered, flow style swapped for block style, comments and blank lines added.
    static let sandboxReordered = """
    # the shop's backing services
    owner: acme      # image tag owner

    env:
      URL: "postgres://{db.user}@{db.host}:{db.port}/shop"
    services:
      cache:
        update:
          - run: 'echo {instance}'
        image: app-db
      db:
        update:
          - sql:
              file: db/migrations/
              database: shop
        setup:
          - create-database:
              name: shop
          - sql: {file: db/schema.sql, database: shop}   # schema first
        image: app-db
    sandbox: shop
    """

    static let image = """
    image: app-db
    from: postgresql-15
    build:
      - copy: {src: files/app.conf, dest: /etc/app.conf}
      - run: echo built
    """

    static let imageReordered = """
    # an image on top of the stock PostgreSQL recipe
    build:
      - copy:
          dest: /etc/app.conf
          src: files/app.conf

      - run: "echo built"
    from: postgresql-15
    image: app-db
    """

    static func files(sandbox: String = sandbox, image: String = image) -> [String: String] {
        [
            "Recipes/shop.yml": sandbox,
            "Recipes/db/schema.sql": "create table items (id int);\n",
            "Recipes/db/migrations/0001-a.sql": "alter table items add a int;\n",
            "Recipes/db/migrations/0002-b.sql": "alter table items add b int;\n",
            "Images/app-db.yml": image,
            "Images/files/app.conf": "max_connections = 20\n",
        ]
    }

    /// Every hash of a resolved sandbox, by a readable key.
    static func hashes(_ resolved: ResolvedSandbox) -> [String: String] {
        var out: [String: String] = [:]
        for image in resolved.images { out["image \(image.tag)"] = image.hash }
        for service in resolved.services {
            out["\(service.name) fresh"] = service.freshHash
            out["\(service.name) setup"] = service.setupHash
            for step in service.setup { out["\(service.name) setup \(step.title)"] = step.hash }
            for step in service.update { out["\(service.name) update \(step.title)"] = step.hash }
        }
        return out
    }

    static func hashes(_ files: [String: String], edit: (RecipeFixture) throws -> Void = { _ in }) throws -> [String: String] {
        let fixture = try RecipeFixture(files)
        defer { fixture.remove() }
        try edit(fixture)
        return hashes(try fixture.resolve())
    }

    /// Keys whose hash differs between two runs.
    static func changed(_ a: [String: String], _ b: [String: String]) -> [String] {
        Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }

    @Test func hashesAreFullSHA256AndCoverEveryStep() throws {
        let h = try Self.hashes(Self.files())
        #expect(h.keys.sorted() == [
            "cache fresh", "cache setup", "cache update run echo {instance}",
            "db fresh", "db setup", "db setup create-database name=shop owner=sandbox", "db setup sql database=shop db/schema.sql",
            "db update sql database=shop db/migrations/0001-a.sql", "db update sql database=shop db/migrations/0002-b.sql",
            "image acme/app-db:shop", "image acme/postgresql-15:shop", "image debian:bookworm",
        ])
        #expect(h.values.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func reorderingKeysAndEditingCommentsKeepsEveryHash() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files(sandbox: Self.sandboxReordered, image: Self.imageReordered))
        #expect(Self.changed(before, after) == [])
    }

    @Test func theSameRecipeInAnotherCheckoutHasTheSameHashes() throws {
        // Paths of the checkout never leak into hashes: two clones share images and golden data.
        #expect(try Self.hashes(Self.files()) == (try Self.hashes(Self.files())))
    }

    @Test func editingASetupSQLFileChangesThatStepAndTheFreshDataOnly() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files()) { try $0.write("Recipes/db/schema.sql", "create table items (id bigint);\n") }
        #expect(Self.changed(before, after) == ["db fresh", "db setup", "db setup sql database=shop db/schema.sql"])
    }

    @Test func editingOneMigrationChangesOnlyThatStep() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files()) { try $0.write("Recipes/db/migrations/0002-b.sql", "alter table items add b text;\n") }
        #expect(Self.changed(before, after) == ["db update sql database=shop db/migrations/0002-b.sql"])
    }

    @Test func addingAMigrationAddsOneStepAndChangesNoOther() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files()) { try $0.write("Recipes/db/migrations/0003-c.sql", "alter table items add c int;\n") }
        #expect(Self.changed(before, after) == ["db update sql database=shop db/migrations/0003-c.sql"])
        #expect(before["db update sql database=shop db/migrations/0003-c.sql"] == nil)
    }

    @Test func editingACopiedFileChangesTheImageAndWhatDependsOnIt() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files()) { try $0.write("Images/files/app.conf", "max_connections = 50\n") }
        #expect(Self.changed(before, after) == ["cache fresh", "db fresh", "image acme/app-db:shop"])
    }

    @Test func editingABuildStepChangesThatImageNotItsBase() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files(image: Self.image.replacingOccurrences(of: "echo built", with: "echo rebuilt")))
        #expect(Self.changed(before, after) == ["cache fresh", "db fresh", "image acme/app-db:shop"])
    }

    @Test func changingAStepParameterChangesThatStep() throws {
        let before = try Self.hashes(Self.files())
        let after = try Self.hashes(Self.files(sandbox: Self.sandbox.replacingOccurrences(of: "{name: shop}", with: "{name: shop, owner: postgres}")))
        #expect(Self.changed(before, after).contains("db fresh"))
        #expect(after["db setup create-database name=shop owner=postgres"] != nil)
        #expect(after["db setup sql database=shop db/schema.sql"] == before["db setup sql database=shop db/schema.sql"])
    }

    @Test func changingTheEnvOrAPortChangesNoHash() throws {
        // What a sandbox exports, or where it publishes, never forces a rebuild or a rerun.
        let before = try Self.hashes(Self.files())
        let edited = Self.sandbox
            .replacingOccurrences(of: "/shop\n", with: "/shop?sslmode=disable\n")
            .replacingOccurrences(of: "    image: app-db\n    setup:", with: "    image: app-db\n    port: 25432\n    setup:")
        #expect(Self.changed(before, try Self.hashes(Self.files(sandbox: edited))) == [])
    }

    @Test func contentHashIgnoresKeyOrder() {
        struct A: Encodable { var x = 1, y = "two" }
        struct B: Encodable { var y = "two", x = 1 }
        #expect(ContentHash.of(A()) == ContentHash.of(B()))
        #expect(ContentHash.of(A()) != ContentHash.of(A(x: 2)))
    }
}

/// Which update steps can be applied once in the golden copy: those whose text is the same for every instance.
@Suite struct PerInstanceStepTests {
    @Test func stepsThatNameTheInstanceItsPortsOrTheEnvironmentRunPerInstance() throws {
        let fixture = try RecipeFixture([
            "Recipes/shop.yml": """
            sandbox: shop
            owner: acme
            services:
              db:
                image: postgresql-15
                update:
                  - sql: {database: shop, file: m.sql}
                  - run: echo {sandbox} {db.user} {db.password}
                  - run: echo {instance}
                  - run: echo {db.port}
                  - run: echo {db.url}
                  - run: echo {env.HOME:-/root}
                  - create-database: {name: "shop_{instance}"}
            """,
            "Recipes/m.sql": "select 1;\n",
        ])
        defer { fixture.remove() }
        let steps = try #require(try fixture.resolve().service("db")).update
        #expect(steps.map(\.perInstance) == [false, false, true, true, true, true, true])
    }
}

extension PerInstanceStepTests {
    @Test func setupThatDependsOnTheInstanceGetsAGoldenCopyPerInstance() throws {
        let fixture = try RecipeFixture([
            "Recipes/shop.yml": """
            sandbox: shop
            owner: acme
            services:
              shared:
                image: postgresql-15
                setup:
                  - create-database: {name: shop}
              own:
                image: postgresql-15
                setup:
                  - create-database: {name: "shop_{instance}"}
            """,
        ])
        defer { fixture.remove() }
        let sandbox = try fixture.resolve()
        let dev = InstanceLayout(checkout: fixture.checkout, instance: "dev")
        let ci = InstanceLayout(checkout: fixture.checkout, instance: "ci-1")
        let shared = try #require(sandbox.service("shared")), own = try #require(sandbox.service("own"))
        #expect(dev.golden(shared) == ci.golden(shared))
        #expect(dev.golden(own) != ci.golden(own))
        #expect(dev.golden(own).lastPathComponent.hasSuffix("-dev") && ci.golden(own).lastPathComponent.hasSuffix("-ci-1"))
    }
}
