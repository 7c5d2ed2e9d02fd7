import Foundation
import Testing

/// The built binary, driven as a user would, against the real engine and real databases.
@Suite(.serialized) struct EndToEndTests {
    @Test func upWriteDownUpKeepsDataThenDestroyGivesAFreshDatabase() throws {
        let checkout = try DemoCheckout()
        let first = try checkout.sandbox(["up", "--json"])
        #expect(first.status == 0, "up failed: \(first.stderr)")
        var env = try checkout.env()
        let pg = try #require(env["DATABASE_URL"]), maria = try #require(env["ANALYTICS_URL"])
        #expect(pg.hasPrefix("postgresql://sandbox:") && pg.contains("@127.0.0.1:"))
        #expect(try Clients.psql(pg, "select count(*) from bookmarks") == "3")
        #expect(try Clients.mysql(maria, "select count(*) from visits") == "3")
        // The migrations ran once each.
        #expect(try Clients.psql(pg, "select count(*) from information_schema.columns where table_name = 'bookmarks' and column_name = 'tags'") == "1")

        _ = try Clients.psql(pg, "insert into bookmarks (url, title) values ('https://swift.org/', 'Swift')")
        _ = try Clients.mysql(maria, "insert into visits (path) values ('/kept')")
        #expect(try checkout.sandbox(["down"]).status == 0)
        let again = try checkout.sandbox(["up", "--json"])
        #expect(again.status == 0, "second up failed: \(again.stderr)")
        let actions = again.events.compactMap { $0["event"] as? String == "start" ? $0["action"] as? String : nil }
        #expect(!actions.contains { $0.hasPrefix("InitData") || $0.hasPrefix("CopyGoldenData") || $0.hasPrefix("RunUpdate") },
                "setup or updates ran again: \(actions)")
        env = try checkout.env()
        #expect(env["DATABASE_URL"] == pg, "the URL (port, password) changed across down/up")
        #expect(try Clients.psql(pg, "select title from bookmarks where url = 'https://swift.org/'") == "Swift")
        #expect(try Clients.mysql(maria, "select count(*) from visits where path = '/kept'") == "1")

        #expect(try checkout.sandbox(["destroy", "--delete-data"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/pg").path))
        #expect(try checkout.sandbox(["up"]).status == 0)
        env = try checkout.env()
        #expect(try Clients.psql(try #require(env["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
        #expect(try Clients.mysql(try #require(env["ANALYTICS_URL"]), "select count(*) from visits") == "3")
    }

    @Test func secondUpIsANoOpWithTwoDockerCallsAndTheSameContainers() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let before = try checkout.containerIDs()
        let noop = try checkout.sandbox(["up", "--json"])
        #expect(noop.status == 0, "\(noop.stderr)")
        let result = try #require(noop.result)
        #expect(result["changed"] as? Bool == false)
        #expect((result["dockerCalls"] as? Int ?? 99) <= 2)
        #expect(try checkout.containerIDs() == before)
        #expect(before.count == 2)
    }

    @Test func newMigrationAppliesOnlyItAndKeepsRows() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let pg = try #require(try checkout.env()["DATABASE_URL"])
        _ = try Clients.psql(pg, "insert into bookmarks (url, title) values ('https://kept.example/', 'kept')")
        let before = try checkout.containerIDs()
        try checkout.write("Recipes/demo/postgres/migrations/0002-notes.sql", "ALTER TABLE bookmarks ADD COLUMN notes text;\n")
        let plan = try checkout.sandbox(["plan"])
        #expect(plan.stdout == """
        #1 service:pg, RunUpdate sql database=bookmarker demo/postgres/migrations/0002-notes.sql, update step is new
        #2 service:maria, Nothing, up to date

        """)
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 0, "\(up.stderr)")
        let started = up.events.filter { $0["event"] as? String == "start" }.compactMap { $0["action"] as? String }
            .filter { $0 != "Nothing" }
        #expect(started == ["RunUpdate sql database=bookmarker demo/postgres/migrations/0002-notes.sql"])
        #expect(try Clients.psql(pg, "select count(*) from bookmarks where notes is null") == "4")
        #expect(try checkout.containerIDs() == before)
    }

    @Test func failingUpdateStepStopsUpAndIsRetriedAfterTheFix() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        try checkout.write("Recipes/demo/postgres/migrations/0002-broken.sql", "ALTER TABLE no_such_table ADD COLUMN x int;\n")
        let failed = try checkout.sandbox(["up"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("error: step 'sql database=bookmarker demo/postgres/migrations/0002-broken.sql' of service pg failed"))
        #expect(failed.stderr.contains("relation \"no_such_table\" does not exist"))
        #expect(failed.stderr.contains("fix: fix the step or the file it reads"))
        try checkout.write("Recipes/demo/postgres/migrations/0002-broken.sql", "ALTER TABLE bookmarks ADD COLUMN x int;\n")
        let fixed = try checkout.sandbox(["up"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let pg = try #require(try checkout.env()["DATABASE_URL"])
        #expect(try Clients.psql(pg, "select count(x) from bookmarks") == "0")
    }
}
