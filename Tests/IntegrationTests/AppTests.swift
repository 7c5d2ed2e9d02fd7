import Foundation
import Testing

/// The whole application in the sandbox: the demo's web application built from the checkout, its cache and its
/// databases, against the real engine, asked over HTTP as a person's browser would.
@Suite(.serialized) struct AppTests {
    /// GET `url` with curl: the status and the body.
    static func get(_ url: String) throws -> (status: Int, body: String) {
        let r = try runProgram("curl", ["-s", "--max-time", "10", "-w", "\n%{http_code}", url], timeout: 20)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// Waits, with a deadline, until `condition` holds; returns whether it did.
    static func eventually(within seconds: TimeInterval = 15, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try condition() { return true }
            usleep(200_000)
        } while Date() < deadline
        return try condition()
    }

    static func appURL(_ checkout: DemoCheckout, _ instance: String = "dev") throws -> String {
        try #require(try checkout.env(instance)["BOOKMARKER_URL"])
    }

    @Test func theDemoServesItsSeededBookmarksRecordsEachVisitAndCaches() throws {
        let checkout = try DemoCheckout(application: true)
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 0, "\(up.stderr)")
        let web = (up.result?["services"] as? [[String: Any]] ?? []).first { $0["service"] as? String == "web" }
        let url = try Self.appURL(checkout)
        #expect(web?["url"] as? String == url && url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/"), "\(String(describing: web))")
        let page = try Self.get(url)
        #expect(page.status == 200)
        for title in ["PostgreSQL", "MariaDB", "Debian"] { #expect(page.body.contains(">\(title)</a>"), "\(page.body)") }
        // Each visit is a row in MariaDB's visits table.
        let analytics = try #require(try checkout.env()["ANALYTICS_URL"])
        let before = Int(try Clients.mysql(analytics, "select count(*) from visits where path = '/'")) ?? -1
        _ = try Self.get(url)
        #expect(Int(try Clients.mysql(analytics, "select count(*) from visits where path = '/'")) == before + 1)
        // The cache answers: a second read within its few seconds comes from it; a row added by hand shows once it lapses.
        let first = try Self.get(url + "api/bookmarks"), second = try Self.get(url + "api/bookmarks")
        #expect(first.status == 200 && (second.body.contains("\"cached\":true") || first.body.contains("\"cached\":true")), "\(second.body)")
        _ = try Clients.psql(try #require(try checkout.env()["DATABASE_URL"]), "insert into bookmarks (url, title) values ('https://x.example/', 'By hand')")
        #expect(try Self.eventually { try Self.get(url).body.contains(">By hand</a>") }, "a row added by hand never showed")
        // No secret reaches the application's container configuration: its connection strings are in a 0600 file.
        let container = try #require(web?["container"] as? String)
        let inspect = try runProgram("docker", ["inspect", container]).stdout
        let databaseURL = try #require(try checkout.env()["DATABASE_URL"])
        let password = try #require(URLComponents(string: databaseURL)?.password)
        #expect(!inspect.contains(password), "a password is in docker inspect")
        let envFile = checkout.root.appendingPathComponent(".sandbox/dev/run/web/env").path
        #expect((try FileManager.default.attributesOfItem(atPath: envFile)[.posixPermissions] as? Int) == 0o600)
    }

    @Test func anApplicationChangeRebuildsOnlyTheApplicationAndAMigrationAloneDoesNot() throws {
        let checkout = try DemoCheckout(application: true)
        #expect(try checkout.sandbox(["up"]).status == 0)
        let url = try Self.appURL(checkout)
        let pg = try #require(try checkout.env()["DATABASE_URL"])
        _ = try Clients.psql(pg, "insert into bookmarks (url, title) values ('kept', 'Kept')")
        let before = try checkout.containerIDs()
        // The application's page changes: plan names the file, and only the application is rebuilt and recreated.
        let app = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo/bookmarker/app.py"), encoding: .utf8)
        try checkout.write("Recipes/demo/bookmarker/app.py", app.replacingOccurrences(of: "<h1>Bookmarks</h1>", with: "<h1>Our bookmarks</h1>"))
        let plan = try checkout.sandbox(["plan"]).stdout
        #expect(plan.contains("#1 image:acme/bookmarker:demo, Build, Recipes/demo/bookmarker/app.py changed"), "\(plan)")
        #expect(plan.contains("service:web, CreateContainer port=") && !plan.contains("image:acme/postgresql-15") && !plan.contains("service:pg, Retire"),
                "\(plan)")
        #expect(try checkout.sandbox(["up"]).status == 0)
        let after = try checkout.containerIDs()
        #expect(after["web"] != before["web"])
        #expect(["pg", "maria", "cache"].allSatisfy { after[$0] == before[$0] }, "only the application was recreated")
        #expect(try Self.get(url).body.contains("<h1>Our bookmarks</h1>"))
        #expect(try Self.get(url).body.contains(">Kept</a>"), "the data is kept")
        // A migration alone: applied, and the application is neither rebuilt nor restarted.
        try checkout.write("Recipes/demo/postgres/migrations/0002-note.sql", "ALTER TABLE bookmarks ADD COLUMN note text;\n")
        let migration = try checkout.sandbox(["plan"]).stdout
        #expect(migration.contains("RunUpdate sql database=bookmarker demo/postgres/migrations/0002-note.sql") && !migration.contains("Build"),
                "\(migration)")
        #expect(try checkout.sandbox(["up"]).status == 0)
        #expect(try checkout.containerIDs() == after)
    }

    @Test func aLiveFolderNeedsOnlyARestart() throws {
        let checkout = try DemoCheckout(application: true)
        #expect(try checkout.sandbox(["up", "--live"]).status == 0)
        let url = try Self.appURL(checkout)
        let file = checkout.root.appendingPathComponent("Recipes/demo/bookmarker/app.py")
        let app = try String(contentsOf: file, encoding: .utf8)
        try checkout.write("Recipes/demo/bookmarker/app.py", app.replacingOccurrences(of: "<h1>Bookmarks</h1>", with: "<h1>Live</h1>"))
        let restart = try checkout.sandbox(["restart", "web", "--json"])
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(PlanTruthTests.done(restart).map { $0.split(separator: " ").dropFirst().prefix(2).joined(separator: " ") }
            == ["service:web WriteServiceEnv", "service:web RestartContainer", "service:web WaitReady"])
        #expect(try Self.get(url).body.contains("<h1>Live</h1>"))
        // The instance remembers it (a plain `up` keeps the folder mounted); --no-live puts the built image back.
        #expect(try checkout.sandbox(["plan"]).stdout.contains("service:web, Retire") == false)
        #expect(try checkout.sandbox(["up", "--no-live"]).status == 0)
        #expect(try Self.get(url).body.contains("<h1>Live</h1>"), "the built image has the same file since the rebuild")
    }

    /// A failed build, an application that never answers its health path, a dependency cycle and an unknown service in a
    /// template: one message with the cause and the fix, and the running instance as it was.
    @Test func failuresNameTheCauseAndLeaveTheRunningInstanceAsItWas() throws {
        let checkout = try DemoCheckout(application: true)
        #expect(try checkout.sandbox(["up"]).status == 0)
        let url = try Self.appURL(checkout)
        let before = try checkout.containerIDs()
        let recipe = try String(contentsOf: checkout.root.appendingPathComponent("Images/bookmarker.yml"), encoding: .utf8)
        let demo = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        let app = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo/bookmarker/app.py"), encoding: .utf8)
        func stillAsItWas(_ what: String) throws {
            #expect(try Self.get(url).body.contains("<h1>Bookmarks</h1>"), "\(what): the running application no longer answers")
            #expect(try checkout.containerIDs() == before, "\(what): a container changed")
        }
        // A build that fails: the build's own words and the fix.
        try checkout.write("Images/bookmarker.yml", recipe.replacingOccurrences(of: "  - copy: {src: ., dest: /app}",
                                                                                with: "  - copy: {src: ., dest: /app}\n  - run: echo broken-build >&2; exit 3"))
        let build = try checkout.sandbox(["up"])
        #expect(build.status != 0 && build.stderr.contains("error: building acme/bookmarker:demo failed at build step 4"), "\(build.stderr)")
        #expect(build.stderr.contains("broken-build") && build.stderr.contains("fix: fix that step in Images/bookmarker.yml"), "\(build.stderr)")
        try stillAsItWas("a failed build")
        try checkout.write("Images/bookmarker.yml", recipe.replacingOccurrences(of: "ready-timeout: 60", with: "ready-timeout: 10"))
        // An application that never answers its health path: not-ready with its log tail, and the old one back.
        try checkout.write("Recipes/demo/bookmarker/app.py", app.replacingOccurrences(of: "return Response(\"ok\\n\", mimetype=\"text/plain\")",
                                                                                     with: "return Response(\"sick\\n\", status=500)"))
        let sick = try checkout.sandbox(["up"])
        #expect(sick.status != 0 && sick.stderr.contains("error: service web did not become ready within 10s (GET /health answered 500, not 2xx)"),
                "\(sick.stderr)")
        #expect(sick.stderr.contains("GET /health") && sick.stderr.contains("fix: read the log above"), "\(sick.stderr)")
        try stillAsItWas("an application that never became ready")
        try checkout.write("Recipes/demo/bookmarker/app.py", app)
        // A cycle, and an unknown service in a template: refused by check and by up before anything runs.
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "  cache:\n    image: redis-7\n",
                                                                          with: "  cache:\n    image: redis-7\n    depends-on: [web]\n"))
        for cycle in [try runProgram(Binary.path, ["check"], cwd: checkout.root), try checkout.sandbox(["up"])] {
            let said = cycle.stdout + cycle.stderr
            #expect(cycle.status != 0 && said.contains("services depend on each other in a cycle: cache -> web -> cache"), "\(said)")
        }
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "CACHE_URL: \"{cache.url}\"\n      SANDBOX", with: "CACHE_URL: \"{cahce.url}\"\n      SANDBOX"))
        let unknown = try checkout.sandbox(["up"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown service 'cahce' in '{cahce.url}' (did you mean 'cache'?)"), "\(unknown.stderr)")
        try checkout.write("Recipes/demo.yml", demo)
        let web = try checkout.containerIDs()["web"]
        #expect(web != nil)
        #expect(try Self.get(url).body.contains("<h1>Bookmarks</h1>"))
        #expect(try checkout.containerIDs().filter { $0.key != "web" } == before.filter { $0.key != "web" })
    }
}
