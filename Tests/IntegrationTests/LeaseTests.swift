import Foundation
import Testing

/// Leases (docs/testing.md) on the real engine, with real clients: many at once, a migration between leases, kill -9 of
/// serve and of refills, the CLI, and the docs' test-runner code as written. The clients' side is Tests/leases/check.py.
@Suite(.serialized) struct LeaseTests {
    static func check(_ arguments: [String], timeout: TimeInterval = 900) throws -> RunResult {
        let python = try #require(TestDeps.python)
        return try runProgram(python, [Binary.repoRoot.appendingPathComponent("Tests/leases/check.py").path] + arguments, timeout: timeout)
    }

    @Test func eightClientsAtOnceEachGetACopyOfTheirOwnOfEitherEngineAndTheDocsCodeWorks() throws {
        let checkout = try DemoCheckout(leases: true)
        let up = try checkout.sandbox(["up"])
        #expect(up.status == 0, "\(up.stderr)")
        let serve = try ServeProcess(checkout)
        defer { serve.stop() }
        for service in ["pg", "maria"] {
            let r = try Self.check(["load", "--base", serve.base, "--token", serve.token, "--service", service, "--clients", "8", "--leases", "50"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            print(r.stdout, terminator: "")
        }
        // Every copy given back was dropped: the server holds the ready ones and the template, nothing else.
        for service in ["pg", "maria"] {
            let list = try checkout.sandbox(["db", "ls", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
            #expect((object["leases"] as? [Any])?.isEmpty == true, "\(list.stdout)")
            // The last release's refill runs on after the last client is done: the pool is full again soon, not at once.
            let folder = checkout.root.appendingPathComponent(".sandbox/dev/leases/\(service)/ready").path
            var ready: [String] = []
            #expect(ReliabilityTests.wait(120) { ready = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []; return ready.count == 4 },
                    "\(service): \(ready)")
        }
        // The instance's own databases are the seeded ones still: nothing lent came from them or went into them.
        let env = try checkout.env()
        #expect(try Clients.psql(try #require(env["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
        #expect(try Clients.psql(try #require(env["DATABASE_URL"]), "select count(*) from pg_database where datname like 'lease%'") == "0")
        let docs = try Self.check(["docs", "--base", serve.base, "--token", serve.token, "--docs",
                                   Binary.repoRoot.appendingPathComponent("docs/testing.md").path, "--classpath", try #require(TestDeps.jdbcClassPath)])
        #expect(docs.status == 0, "\(docs.stdout)\(docs.stderr)")
    }

    @Test func theCommandLineLendsRenewsAndGivesBackAndSaysWhatIsWrong() throws {
        let checkout = try DemoCheckout(leases: true)
        #expect(try checkout.sandbox(["up"]).status == 0)
        let lease = try checkout.sandbox(["db", "lease", "pg"])
        #expect(lease.status == 0, "\(lease.stderr)")
        let vars = Dictionary(uniqueKeysWithValues: lease.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        })
        let url = try #require(vars["DATABASE_URL"]), id = try #require(vars["SANDBOX_LEASE_ID"])
        #expect(url.hasSuffix("/lease_\(id)") && vars["DATABASE_JDBC_URL"]?.contains("/lease_\(id)?user=lease_\(id)&") == true, "\(vars)")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "3")
        // Its login reaches its copy only: not the seeded database, not another copy.
        let other = try checkout.sandbox(["db", "lease", "pg", "--json"])
        let otherName = try #require((try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])?["name"] as? String)
        let base = String(url.dropLast("lease_\(id)".count))
        let denied = try runProgram("psql", [base + otherName, "-Atc", "select 1"])
        #expect(denied.status != 0 && denied.stderr.contains("CONNECT"), "\(denied.stderr)")
        let seeded = try runProgram("psql", [base + "bookmarker", "-Atc", "select count(*) from bookmarks"])
        #expect(seeded.status != 0, "a copy's login reads the seeded database: \(seeded.stdout)")
        #expect(try checkout.sandbox(["db", "renew", id, "--ttl", "30m"]).status == 0)
        #expect(try checkout.sandbox(["db", "release", id]).status == 0)
        let gone = try runProgram("psql", [url, "-Atc", "select 1"])
        #expect(gone.status != 0, "a copy given back is dropped")
        let again = try checkout.sandbox(["db", "release", id])
        #expect(again.status != 0 && again.stderr.contains("has lent no database") && again.stderr.contains("fix:"), "\(again.stderr)")
        let wrong = try checkout.sandbox(["db", "lease", "pg", "--database", "postgres"])
        #expect(wrong.status != 0 && wrong.stderr.contains("lends no database 'postgres'"), "\(wrong.stderr)")
        let ttl = try checkout.sandbox(["db", "lease", "pg", "--ttl", "2s"])
        #expect(ttl.status != 0 && ttl.stderr.contains("10 seconds to 7 days"), "\(ttl.stderr)")
    }

    @Test func aMigrationShowsInEveryLeaseAfterTheNextUpAndInNoneBefore() throws {
        let checkout = try DemoCheckout(leases: true)
        #expect(try checkout.sandbox(["up"]).status == 0)
        func lease(_ service: String) throws -> [String: Any] {
            let r = try checkout.sandbox(["db", "lease", service, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        }
        func columns(_ lease: [String: Any], _ table: String) throws -> String {
            let url = lease["url"] as? String ?? ""
            return url.hasPrefix("postgresql:")
                ? try Clients.psql(url, "select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns where table_name = '\(table)'")
                : try Clients.mysql(url, "select group_concat(column_name order by ordinal_position) from information_schema.columns "
                                        + "where table_schema = database() and table_name = '\(table)'")
        }
        let before = (pg: try lease("pg"), maria: try lease("maria"))
        try checkout.write("Recipes/demo/postgres/migrations/0002-rating.sql", "ALTER TABLE bookmarks ADD COLUMN rating int;\n")
        try checkout.write("Recipes/demo/mariadb/migrations/0002-agent.sql", "ALTER TABLE visits ADD COLUMN agent VARCHAR(100) NULL;\n")
        let up = try checkout.sandbox(["up"])
        #expect(up.status == 0 && (up.stdout + up.stderr).contains("FillLeasePool"), "\(up.stdout)\(up.stderr)")
        for _ in 0..<4 {
            let pg = try lease("pg"), maria = try lease("maria")
            let (pgColumns, mariaColumns) = (try columns(pg, "bookmarks"), try columns(maria, "visits"))
            #expect(pgColumns.hasSuffix(",rating") && mariaColumns.hasSuffix(",agent"), "\(pgColumns) \(mariaColumns)")
        }
        let (pgBefore, mariaBefore) = (try columns(before.pg, "bookmarks"), try columns(before.maria, "visits"))
        #expect(!pgBefore.contains("rating") && !mariaBefore.contains("agent"), "a lease made before the update is left as it was lent")
    }

    @Test func killNineOfServeAndOfRefillsLosesNoLeaseAndLendsNoHalfMadeCopy() throws {
        let checkout = try DemoCheckout(leases: true)
        // Every lease is held to the end (each is checked for its write after every kill): hundreds, over the default 'max-lent'.
        let recipe = checkout.root.appendingPathComponent("Recipes/demo.yml")
        try checkout.write("Recipes/demo.yml", try String(contentsOf: recipe, encoding: .utf8).replacingOccurrences(of: "ttl: 10m}", with: "ttl: 10m, max-lent: 10000}"))
        #expect(try String(contentsOf: recipe, encoding: .utf8).components(separatedBy: "max-lent: 10000").count == 3)
        #expect(try checkout.sandbox(["up"]).status == 0)
        for (service, seed) in [("pg", "11"), ("maria", "12")] {
            let r = try Self.check(["kills", "--bin", Binary.path, "--checkout", checkout.root.path, "--service", service, "--trials", "25", "--seed", seed])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            print(r.stdout, terminator: "")
        }
    }
}
