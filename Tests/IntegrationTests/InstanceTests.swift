import Foundation
import Testing

/// Many instances of one sandbox side by side.
@Suite(.serialized) struct InstanceTests {
    /// Eight copies of the whole demo (databases, cache, application) side by side: each application answers on its own
    /// port, sees only its own databases, and cannot reach another instance's even by address.
    @Test func eightInstancesInParallelAreIsolated() async throws {
        let checkout = try DemoCheckout(application: true)
        // The first brings images and the golden data up to date; the other seven copy it.
        let names = (1...8).map { "shard-\($0)" }
        let results = try await withThrowingTaskGroup(of: (String, RunResult).self) { group in
            for name in names {
                group.addTask { (name, try checkout.sandbox(["up"], instance: name)) }
            }
            var all: [String: RunResult] = [:]
            for try await (name, result) in group { all[name] = result }
            return all
        }
        for name in names { #expect(results[name]?.status == 0, "\(name): \(results[name]?.stderr ?? "")") }
        var urls: [String: String] = [:]
        for name in names { urls[name] = try checkout.env(name)["DATABASE_URL"] }
        let ports = Set(urls.values.compactMap { URLComponents(string: $0)?.port })
        #expect(ports.count == 8, "ports are not distinct: \(urls)")
        for name in names {
            _ = try Clients.psql(try #require(urls[name]), "insert into bookmarks (url, title) values ('\(name)', '\(name)')")
        }
        for name in names {
            #expect(try Clients.psql(try #require(urls[name]), "select string_agg(url, ',') from bookmarks where url like 'shard-%'") == name)
        }
        // Each application on its own port, showing its own instance's rows (once its cache has lapsed) and no other's.
        var apps: [String: String] = [:]
        for name in names { apps[name] = try checkout.env(name)["BOOKMARKER_URL"] }
        #expect(Set(apps.values).count == 8, "\(apps)")
        for name in names {
            let app = try #require(apps[name])
            #expect(try AppTests.eventually { try AppTests.get(app).body.contains(">\(name)</a>") }, "\(name)'s application never showed its row")
            let page = try AppTests.get(app).body
            #expect(names.filter { $0 != name }.allSatisfy { !page.contains(">\($0)</a>") }, "\(name) shows another instance's rows")
        }
        // From shard-2's application container, shard-3's PostgreSQL is unreachable by its address; its own answers by name.
        let status = try JSONSerialization.jsonObject(with: Data(try checkout.sandbox(["status", "--json"], instance: "shard-3").stdout.utf8))
        let pg3 = try #require(((status as? [String: Any])?["services"] as? [[String: Any]])?.first { $0["service"] as? String == "pg" }?["container"] as? String)
        let address = try runProgram("docker", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", pg3]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let web2 = try #require(try checkout.containerIDs("shard-2")["web"])
        func reach(_ host: String) throws -> Int32 {
            try runProgram("docker", ["exec", web2, "python3", "-c",
                                      "import socket,sys; socket.create_connection((sys.argv[1], 5432), timeout=3)", host]).status
        }
        let across = try reach(address)
        #expect(!address.isEmpty && across != 0, "shard-2's application reached shard-3's database at \(address)")
        #expect(try reach("pg") == 0, "shard-2's application cannot reach its own database by name")
        let ls = try runProgram(Binary.path, ["ls", "--json"], cwd: checkout.root)
        let listed = (try? JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as? [String: Any])?["instances"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["instance"] as? String }) == Set(names))

        #expect(try checkout.sandbox(["destroy", "--delete-data"], instance: "shard-1").status == 0)
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/shard-1").path), "nothing of shard-1 is left")
        for name in names.dropFirst() {
            let status = try checkout.sandbox(["status", "--json"], instance: name)
            #expect(status.stdout.components(separatedBy: "\"state\":\"running\"").count - 1 == 4, "\(name): \(status.stdout)")
            #expect(try Clients.psql(try #require(urls[name]), "select count(*) from bookmarks") == "4")
        }
    }

    @Test func resetGoesBackToTheFreshStateOfOneInstanceOnly() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"], instance: "a").status == 0)
        #expect(try checkout.sandbox(["up"], instance: "b").status == 0)
        let a = try #require(try checkout.env("a")["DATABASE_URL"]), b = try #require(try checkout.env("b")["DATABASE_URL"])
        _ = try Clients.psql(a, "delete from bookmarks")
        _ = try Clients.psql(b, "delete from bookmarks where title = 'Debian'")
        let reset = try checkout.sandbox(["reset"], instance: "a")
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try Clients.psql(a, "select count(*) from bookmarks") == "3")
        #expect(try Clients.psql(a, "select count(*) from information_schema.columns where column_name = 'tags'") == "1")
        #expect(try Clients.psql(b, "select count(*) from bookmarks") == "2")
    }

    @Test func snapshotSaveRestoreAndRefusal() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let url = try #require(try checkout.env()["DATABASE_URL"])
        _ = try Clients.psql(url, "insert into bookmarks (url, title) values ('saved', 'saved')")
        let save = try checkout.sandbox(["snapshot", "save", "before"])
        #expect(save.status == 0, "\(save.stderr)")
        _ = try Clients.psql(url, "delete from bookmarks")
        let restore = try checkout.sandbox(["snapshot", "restore", "before"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "4")
        let missing = try checkout.sandbox(["snapshot", "restore", "befor"])
        #expect(missing.stderr == "error: instance 'dev' has no snapshot 'befor' (did you mean 'before'?)\nfix: use one of: before\n")
        // A snapshot of another engine version is refused (its data's stamp says what made it).
        let meta = checkout.root.appendingPathComponent(".sandbox/dev/snapshots/before/pg/.sandbox-data.json")
        let text = try String(contentsOf: meta, encoding: .utf8).replacingOccurrences(of: "\"version\" : \"15\"", with: "\"version\" : \"14\"")
        try text.write(to: meta, atomically: true, encoding: .utf8)
        let refused = try checkout.sandbox(["snapshot", "restore", "before"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("error: snapshot 'before' holds postgresql 14 data for pg, but the recipe runs postgresql 15"))
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "4")
    }
}

/// A developer who runs docker as a non-root user (in the docker group) owns everything under `.sandbox/`
/// and can delete it without sudo: services run as the caller's uid and gid.
@Suite(.serialized) struct OwnershipTests {
    static let user = "sbxtester"

    @Test(.enabled(if: getuid() == 0, "needs root to create the test user"))
    func nonRootCallerOwnsEveryFileAndCanDeleteThem() throws {
        if try runProgram("id", [Self.user]).status != 0 {
            #expect(try runProgram("useradd", ["--create-home", "--groups", "docker", Self.user]).status == 0)
        }
        let checkout = try DemoCheckout()
        // The build folder may be private to root (a clone under mktemp -d): the user runs its own copy of the tool.
        let tool = checkout.root.appendingPathComponent("sandbox-tool").path
        try FileManager.default.copyItem(atPath: Binary.path, toPath: tool)
        try runProgram("chown", ["-R", Self.user, checkout.root.path])
        let up = try runProgram("runuser", ["-u", Self.user, "--", tool, "up", "--instance", "mine"], cwd: checkout.root)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let foreign = try runProgram("find", [checkout.root.appendingPathComponent(".sandbox").path, "!", "-user", Self.user])
        #expect(foreign.stdout.isEmpty, "not owned by \(Self.user):\n\(foreign.stdout)")
        // The running services write as the caller too.
        let env = try runProgram("runuser", ["-u", Self.user, "--", tool, "env", "--json", "--instance", "mine"], cwd: checkout.root)
        let url = try #require((try JSONSerialization.jsonObject(with: Data(env.stdout.utf8)) as? [String: String])?["DATABASE_URL"])
        _ = try Clients.psql(url, "create table written_later (id int); insert into written_later select generate_series(1, 1000); checkpoint")
        let down = try runProgram("runuser", ["-u", Self.user, "--", tool, "down", "--instance", "mine"], cwd: checkout.root)
        #expect(down.status == 0, "\(down.stderr)")
        let removed = try runProgram("runuser", ["-u", Self.user, "--", "rm", "-rf", checkout.root.appendingPathComponent(".sandbox").path])
        #expect(removed.status == 0, "the caller cannot delete its own .sandbox/: \(removed.stderr)")
    }
}
