import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxHost

/// The stock recipes' actions as they run: typed parameters, the exact command each step becomes, and the
/// exact SQL its client receives — hostile values included — with secrets passed only to printf, a builtin.
@Suite struct StockActionTests {
    /// Quotes, a backslash, a newline, a shell substitution, a printf directive, an injection attempt, unicode.
    static let secret = "p'a\"ss\\w`d\n$(id) %s'; DROP TABLE x; -- é"

    static let recipe = """
    sandbox: shop
    owner: acme
    services:
      pg:
        image: postgresql-15
        setup:
          - create-database: {name: shop}
          - create-user: {name: app_user, secret: "{env.SECRET}"}
          - create-database: {name: "{env.DB_NAME}", owner: app_user}
      maria:
        image: mariadb-10.11
        setup:
          - create-database: {name: Shop_2}
          - create-user: {name: app_user, secret: "{env.SECRET}"}
    """

    struct Rendered {
        var sandbox: ResolvedSandbox
        var rendering: Rendering

        func service(_ name: String) throws -> ResolvedService { try #require(sandbox.service(name)) }

        func script(_ service: String, _ index: Int) throws -> String {
            let s = try self.service(service)
            return try rendering.step(s.setup[index], service: s)
        }
    }

    static func rendered(environment: [String: String] = ["SECRET": secret, "DB_NAME": "reports"]) throws -> Rendered {
        let fixture = try RecipeFixture(["Recipes/shop.yml": recipe])
        defer { fixture.remove() }
        let sandbox = try fixture.resolve()
        func stamp(_ engine: String) -> DataStamp {
            DataStamp(engine: engine, version: "1", imageHash: "i", freshHash: "f", setupHash: "s", user: "sandbox", password: "old'pw", updates: [:])
        }
        let rendering = Rendering(sandbox: sandbox, instance: "ci-1", ports: ["pg": 15432, "maria": 13306],
                                  stamps: ["pg": stamp("postgresql"), "maria": stamp("mariadb")], environment: environment)
        return Rendered(sandbox: sandbox, rendering: rendering)
    }

    /// What the client reads on standard input: the script run by dash with the clients replaced by `cat`.
    static func sql(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "psql() { cat; }; mariadb() { cat; }\n" + script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func actionsDeclareTheirParameterTypes() throws {
        let r = try Self.rendered()
        func kinds(_ service: String, _ action: String) throws -> [String] {
            try #require(try r.service(service).actions[action]).params.map { "\($0.name): \($0.kind.rawValue)\($0.defaultValue.map { " = \($0)" } ?? "")" }
        }
        #expect(try kinds("pg", "create-database") == ["name: identifier", "owner: identifier = sandbox"])
        #expect(try kinds("pg", "create-user") == ["name: identifier", "secret: secret"])
        #expect(try kinds("pg", "set-password") == ["secret: secret"])
        #expect(try kinds("maria", "create-database") == ["name: identifier"])
        #expect(try kinds("maria", "create-user") == ["name: identifier", "secret: secret"])
        #expect(try kinds("maria", "set-password") == ["secret: secret"])
    }

    @Test func titlesNeverShowASecret() throws {
        let r = try Self.rendered()
        #expect(try r.service("pg").setup.map(\.title) == [
            "create-database name=shop owner=sandbox", "create-user name=app_user secret=***",
            "create-database name={env.DB_NAME} owner=app_user",
        ])
        #expect(try r.service("maria").setup.map(\.title) == ["create-database name=Shop_2", "create-user name=app_user secret=***"])
    }

    @Test func postgresqlStepsBecomeQuotedSQLOnStandardInput() throws {
        let r = try Self.rendered()
        let createDatabase = try r.script("pg", 0)
        #expect(createDatabase == #"printf 'CREATE DATABASE %s OWNER %s;\n' '"shop"' '"sandbox"' "#
            + #"| psql -X -q -v ON_ERROR_STOP=1 -h /tmp -p 5432 -U sandbox -d postgres"#)
        #expect(try Self.sql(createDatabase) == "CREATE DATABASE \"shop\" OWNER \"sandbox\";\n")
        let createUser = try r.script("pg", 1)
        #expect(createUser == #"printf 'CREATE ROLE %s LOGIN PASSWORD %s;\n' '"app_user"' ''\''p'\'''\''a"ss\w`d"# + "\n"
            + #"$(id) %s'\'''\''; DROP TABLE x; -- é'\''' | psql -X -q -v ON_ERROR_STOP=1 -h /tmp -p 5432 -U sandbox -d postgres"#)
        #expect(try Self.sql(createUser) == "CREATE ROLE \"app_user\" LOGIN PASSWORD 'p''a\"ss\\w`d\n$(id) %s''; DROP TABLE x; -- é';\n")
        #expect(try Self.sql(try r.script("pg", 2)) == "CREATE DATABASE \"reports\" OWNER \"app_user\";\n")
    }

    @Test func mariadbStepsBecomeQuotedSQLOnStandardInput() throws {
        let r = try Self.rendered()
        let createDatabase = try r.script("maria", 0)
        #expect(createDatabase == "printf 'CREATE DATABASE %s;\\n' '`Shop_2`' | mariadb --socket=/tmp/mysqld.sock -u root")
        #expect(try Self.sql(createDatabase) == "CREATE DATABASE `Shop_2`;\n")
        let createUser = try r.script("maria", 1)
        #expect(createUser == #"printf "CREATE USER %s@'%%' IDENTIFIED BY %s; GRANT ALL ON *.* TO %s@'%%';\n" "#
            + #"''\''app_user'\''' ''\''p\'\''a\"ss\\w`d\n$(id) %s\'\''; DROP TABLE x; -- é'\''' ''\''app_user'\''' "#
            + #"| mariadb --socket=/tmp/mysqld.sock -u root"#)
        #expect(try Self.sql(createUser) == #"CREATE USER 'app_user'@'%' IDENTIFIED BY 'p\'a\"ss\\w`d\n$(id) %s\'; DROP TABLE x; -- é'; "#
            + #"GRANT ALL ON *.* TO 'app_user'@'%';"# + "\n")
    }

    @Test func setPasswordChangesTheLoginUsersPasswordOverTheSocket() throws {
        let r = try Self.rendered()
        let pg = try Rendering.action("set-password", of: try r.service("pg"), stamp: r.rendering.stamps["pg"], params: ["secret": "n3w'pw\\"])
        #expect(pg == #"printf 'ALTER ROLE %s PASSWORD %s;\n' '"sandbox"' ''\''n3w'\'''\''pw\'\''' "#
            + #"| psql -X -q -v ON_ERROR_STOP=1 -h /tmp -p 5432 -U sandbox -d postgres"#)
        #expect(try Self.sql(pg) == "ALTER ROLE \"sandbox\" PASSWORD 'n3w''pw\\';\n")
        let maria = try Rendering.action("set-password", of: try r.service("maria"), stamp: r.rendering.stamps["maria"], params: ["secret": "n3w'pw\\"])
        #expect(try Self.sql(maria) == #"""
        ALTER USER 'sandbox'@'%' IDENTIFIED BY 'n3w\'pw\\';
        ALTER USER 'sandbox'@'localhost' IDENTIFIED BY 'n3w\'pw\\';

        """#)
    }

    @Test func mariadbInitQuotesTheUserAndPassword() throws {
        let r = try Self.rendered()
        let spec = try r.service("maria").spec
        var stamp = try #require(r.rendering.stamps["maria"])
        stamp.password = "a'b\\c"
        let script = try Rendering.command(spec.initSteps[1], spec: spec, stamp: stamp)
        let printf = try #require(script.components(separatedBy: " | ").first)
        #expect(try Self.sql(printf) == #"""
        FLUSH PRIVILEGES;
        CREATE USER 'sandbox'@'%' IDENTIFIED BY 'a\'b\\c';
        GRANT ALL ON *.* TO 'sandbox'@'%' WITH GRANT OPTION;
         CREATE USER 'sandbox'@'localhost' IDENTIFIED BY 'a\'b\\c';
        GRANT ALL ON *.* TO 'sandbox'@'localhost' WITH GRANT OPTION;

        """#)
    }

    /// Secrets reach a client only through printf's arguments (a builtin, so no process argv holds them).
    @Test func secretsAreOnlyEverPrintfArguments() throws {
        let r = try Self.rendered()
        for service in r.sandbox.services {
            var commands = service.actions.values.compactMap { action -> (String, Template)? in
                action.params.contains { $0.kind == .secret } ? (action.name, action.run) : nil
            }
            commands += service.spec.initSteps.filter { $0.references.contains("password") }.map { ("init", $0) }
            #expect(commands.count == 3, "\(service.name): create-user, set-password and one init step")
            for (name, template) in commands {
                let beforePipe = template.raw.components(separatedBy: " | ").first ?? ""
                let secrets = template.referenceParts.filter { ["secret", "password"].contains($0.name) }
                #expect(template.raw.hasPrefix("printf "), "\(service.name) \(name)")
                #expect(!secrets.isEmpty && secrets.allSatisfy { $0.offset < beforePipe.count && $0.filter != .ident }, "\(service.name) \(name)")
            }
        }
    }

    @Test func anIdentifierFromTheEnvironmentIsCheckedWhenTheStepRenders() throws {
        let r = try Self.rendered(environment: ["SECRET": "x", "DB_NAME": "my db"])
        let pg = try r.service("pg")
        let error = #expect(throws: SandboxError.self) { try r.rendering.step(pg.setup[2], service: pg) }
        #expect(error?.code == .stepFailed)
        #expect(error?.message == "step 'create-database name={env.DB_NAME} owner=app_user' of pg: 'my db' is not a valid identifier "
            + "for parameter 'name' of action 'create-database' (it comes from {env.DB_NAME})")
        #expect(error?.fix == "use letters, digits and '_' (up to 63), starting with a letter or '_'")
        let long = String(repeating: "a", count: 64)
        #expect(throws: SandboxError.self) {
            try Rendering.action("create-database", of: pg, stamp: nil, params: ["name": long])
        }
        #expect(try Rendering.action("create-database", of: pg, stamp: nil, params: ["name": String(long.dropFirst())])
            .hasPrefix("printf 'CREATE DATABASE %s OWNER %s;\\n' '\"\(long.dropFirst())\"' '\"sandbox\"'"))
    }

    @Test func identifiersAreLettersDigitsAndUnderscoreUpTo63() {
        let valid = ["a", "_", "A_1", "_9", "shop_2024", String(repeating: "x", count: 63)]
        let invalid = ["", "1a", "my db", "a-b", "a.b", "é", "a;", "\"a\"", String(repeating: "x", count: 64), "a\n"]
        #expect(valid.filter { !ImageRecipe.Param.isIdentifier($0) } == [])
        #expect(invalid.filter { ImageRecipe.Param.isIdentifier($0) } == [])
    }
}
