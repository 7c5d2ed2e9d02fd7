import Foundation
import Testing

/// A service's image changing to a newer major of its engine (issue: versions): `up` snapshots, upgrades by the
/// recipe's route (PostgreSQL 15 -> 17 by dump and restore, MariaDB 10.11 -> 11.8 in place), and keeps every row
/// and the login password; a downgrade is refused with the snapshot to restore; a failing or killed upgrade leaves
/// the old version serving the old data.
@Suite(.serialized) struct UpgradeTests {
    static let old = ["postgresql-15", "mariadb-10.11"], new = ["postgresql-17", "mariadb-11.8"]

    /// The demo recipe with its images swapped.
    static func recipe(_ checkout: DemoCheckout, images: [String]) throws {
        let url = checkout.root.appendingPathComponent("Recipes/demo.yml")
        var text = try String(contentsOf: url, encoding: .utf8)
        for (from, to) in zip(old + new, images + images) where from != to { text = text.replacingOccurrences(of: "image: \(from)", with: "image: \(to)") }
        try checkout.write("Recipes/demo.yml", text)
    }

    /// Every table of both databases: its row count and a checksum of its rows in a stable order.
    static func contents(_ env: [String: String]) throws -> [String: String] {
        var result: [String: String] = [:]
        let pg = try #require(env["DATABASE_URL"]), maria = try #require(env["ANALYTICS_URL"])
        for table in try Clients.psql(pg, "select table_name from information_schema.tables "
                                          + "where table_schema = 'public' and table_type = 'BASE TABLE' order by 1").split(separator: "\n") {
            result["pg.\(table)"] = try Clients.psql(pg, "select count(*) || ' ' || "
                                                         + "coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from \"\(table)\" t")
        }
        for table in try Clients.mysql(maria, "select table_name from information_schema.tables "
                                              + "where table_schema = 'analytics' and table_type = 'BASE TABLE' order by 1").split(separator: "\n") {
            let columns = try Clients.mysql(maria, "select group_concat(concat('`', column_name, '`') order by ordinal_position) "
                                                   + "from information_schema.columns where table_schema = 'analytics' and table_name = '\(table)'")
            result["maria.\(table)"] = try Clients.mysql(maria, "set session group_concat_max_len = 1073741824; "
                + "select concat(count(*), ' ', coalesce(md5(group_concat(concat_ws('|', \(columns)) "
                + "order by concat_ws('|', \(columns)) separator '\\n')), '')) from `\(table)`")
        }
        return result
    }

    static func versions(_ env: [String: String]) throws -> (String, String) {
        (try Clients.psql(env["DATABASE_URL"] ?? "", "show server_version"), try Clients.mysql(env["ANALYTICS_URL"] ?? "", "select version()"))
    }

    @Test func upgradeKeepsEveryRowAndThePasswordRefusesADowngradeAndSurvivesFailureAndKill() throws {
        let checkout = try DemoCheckout()
        let up = try checkout.sandbox(["up"])
        try #require(up.status == 0, "\(up.stderr)")
        let env = try checkout.env()
        // Rows by hand, after setup: a new row, a new table, and a role with its own password.
        _ = try Clients.psql(env["DATABASE_URL"] ?? "",
                             "insert into bookmarks (url, title) values ('https://example.org/by-hand', 'by hand'); "
                                 + "create table notes (id int primary key, body text); "
                                 + "insert into notes select g, md5(g::text) from generate_series(1, 500) g; "
                                 + "create role reader login password 'reader-pw'")
        _ = try Clients.mysql(env["ANALYTICS_URL"] ?? "", "insert into visits (path) values ('/by-hand'); "
                                  + "create table notes (id int primary key, body text); insert into notes values (1, 'one'), (2, 'two')")
        let before = try Self.contents(env)
        #expect(before.count == 4 && before["pg.notes"]?.hasPrefix("500 ") == true, "\(before)")
        #expect(try Self.versions(env).0.hasPrefix("15.") && Self.versions(env).1.hasPrefix("10.11."))

        // The plan says what, from which version to which, by which route, and about how long.
        try Self.recipe(checkout, images: Self.new)
        let plan = try checkout.sandbox(["plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        for wanted in ["SaveSnapshot before-upgrade-15-17-10.11-11.8", "UpgradeData 15->17 dump", "postgresql 15 -> 17 by dump and restore",
                       "UpgradeData 10.11->11.8 in-place", "mariadb 10.11 -> 11.8 in place", "SwitchData pg,maria", "about "] {
            #expect(plan.stdout.contains(wanted), "plan lacks \(wanted):\n\(plan.stdout)")
        }
        let upgraded = try checkout.sandbox(["up"])
        try #require(upgraded.status == 0, "\(upgraded.stderr)")
        // The same URLs (so the same passwords) reach the new versions, with every row.
        #expect(try checkout.env() == env, "the login URLs did not change")
        let (pgVersion, mariaVersion) = try Self.versions(env)
        #expect(pgVersion.hasPrefix("17.") && mariaVersion.hasPrefix("11.8."), "\(pgVersion) \(mariaVersion)")
        #expect(try Self.contents(env) == before)
        let reader = try runProgram("psql", ["postgresql://reader:reader-pw@\(URLComponents(string: env["DATABASE_URL"] ?? "")?.host ?? "")"
                                                 + ":\(URLComponents(string: env["DATABASE_URL"] ?? "")?.port ?? 0)/bookmarker",
                                             "-XAtc", "select current_user"])
        #expect(reader.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "reader", "a role made by hand keeps its password: \(reader.stderr)")
        #expect(try checkout.sandbox(["plan"]).stdout.contains("Nothing"), "a second up has nothing to do")
        let snapshots = try checkout.sandbox(["snapshot", "ls"])
        #expect(snapshots.stdout.contains("before-upgrade-15-17-10.11-11.8"), "\(snapshots.stdout)")

        // Back on the old recipe: a downgrade, refused, naming the snapshot that goes back.
        try Self.recipe(checkout, images: Self.old)
        let down = try checkout.sandbox(["up"])
        #expect(down.status == 1 && down.stderr.contains("never moved to an older version")
                && down.stderr.contains("sandbox snapshot restore before-upgrade-15-17-10.11-11.8"), "\(down.stderr)")
        #expect(try Self.versions(env).0.hasPrefix("17."), "the refused downgrade changed nothing")
        let restored = try checkout.sandbox(["snapshot", "restore", "before-upgrade-15-17-10.11-11.8"])
        try #require(restored.status == 0, "\(restored.stderr)")
        let env15 = try checkout.env()
        #expect(try Self.versions(env15).0.hasPrefix("15.") && Self.versions(env15).1.hasPrefix("10.11."))
        #expect(try Self.contents(env15) == before, "the snapshot holds the data as it was before the upgrade")

        // A restore that fails: the upgrade stops there, both services run their old versions on their old data.
        // postgresql-17 inherits its upgrade route from postgresql-15; this copy replaces it with one whose restore fails.
        let stock17 = try String(contentsOf: Binary.repoRoot.appendingPathComponent("Images/postgresql-17.yml"), encoding: .utf8)
        let stock15 = try String(contentsOf: Binary.repoRoot.appendingPathComponent("Images/postgresql-15.yml"), encoding: .utf8)
        let dumpLine = try #require(stock15.split(separator: "\n").first { $0.contains("dump: pg_dumpall") })
        try #require(stock17.hasSuffix("service:\n  version: \"17\"\n"), "the test appends to the service section")
        try checkout.write("Images/postgresql-17.yml", stock17 + "  upgrade:\n    method: dump\n\(dumpLine)\n"
            + "    restore: cat > /dev/null; echo 'the restore refuses this dump' >&2; exit 3\n")
        try Self.recipe(checkout, images: Self.new)
        let failed = try checkout.sandbox(["up"])
        #expect(failed.status == 1 && failed.stderr.contains("upgrading the data of pg from postgresql 15 to 17 failed while restoring the dump into 17")
                && failed.stderr.contains("the restore refuses this dump"), "\(failed.stderr)")
        #expect(try Self.versions(env15).0.hasPrefix("15.") && Self.versions(env15).1.hasPrefix("10.11."), "the old versions run again")
        #expect(try Self.contents(env15) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: checkout.root.appendingPathComponent(".sandbox/dev").path)
            .filter { $0.hasSuffix(".staging") || $0.hasSuffix(".upgrade") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try runProgram("docker", ["ps", "-aq", "--filter", "label=dev.sandbox.role=upgrade",
                                          "--filter", "label=dev.sandbox.checkout-path=\(checkout.root.path)"]).stdout.isEmpty)
        try FileManager.default.removeItem(at: checkout.root.appendingPathComponent("Images/postgresql-17.yml"))

        // Killed while the old server dumps: the old data is untouched, and the next up upgrades it.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["up", "--instance", "dev"]
        process.currentDirectoryURL = checkout.root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let work = checkout.root.appendingPathComponent(".sandbox/dev/.pg.upgrade/\(".sandbox-upgrade.dump")")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: work.path) && process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(process.isRunning, "the upgrade ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(DataStamp(checkout.root.appendingPathComponent(".sandbox/dev/pg"))?.version == "15", "the killed upgrade left the 15 data in place")
        let again = try checkout.sandbox(["up"])
        try #require(again.status == 0, "\(again.stderr)")
        #expect(try runProgram("docker", ["ps", "-aq", "--filter", "label=dev.sandbox.role=upgrade",
                                          "--filter", "label=dev.sandbox.checkout-path=\(checkout.root.path)"]).stdout.isEmpty,
                "the killed upgrade's private servers are gone")
        #expect(try Self.versions(env15).0.hasPrefix("17."))
        #expect(try Self.contents(env15) == before)
    }
}

/// The engine and version stamped into a data dir (`.sandbox-data.json`).
private struct DataStamp: Decodable {
    var engine: String
    var version: String
    init?(_ dataDir: URL) {
        guard let data = FileManager.default.contents(atPath: dataDir.appendingPathComponent(".sandbox-data.json").path),
              let stamp = try? JSONDecoder().decode(DataStamp.self, from: data) else { return nil }
        self = stamp
    }
}
