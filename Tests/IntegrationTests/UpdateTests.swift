import Foundation
import Testing

/// `up` after a change: only what changed is rebuilt or recreated, and rows survive.
@Suite(.serialized) struct UpdateTests {
    @Test func editingOneServicesBuildStepRecreatesOnlyThatService() throws {
        // A sandbox name of its own: image tags are `<owner>/<component>:<sandbox>`, shared by every checkout of a
        // sandbox on the engine, and this test builds a different image under its tag.
        let checkout = try DemoCheckout()
        let name = "upd\(UUID().uuidString.prefix(6).lowercased())"
        try checkout.write("Recipes/demo.yml", try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
            .replacingOccurrences(of: "sandbox: demo\n", with: "sandbox: \(name)\n"))
        #expect(try checkout.sandbox(["up"]).status == 0)
        let env = try checkout.env()
        let pg = try #require(env["DATABASE_URL"]), maria = try #require(env["ANALYTICS_URL"])
        _ = try Clients.psql(pg, "insert into bookmarks (url, title) values ('kept', 'kept')")
        _ = try Clients.mysql(maria, "insert into visits (path) values ('/kept')")
        let before = try checkout.containerIDs()

        // The checkout's own copy of the stock recipe, with one more build step, overrides the stock one.
        let stock = try String(contentsOf: Binary.repoRoot.appendingPathComponent("Images/mariadb-10.11.yml"), encoding: .utf8)
        try checkout.write("Images/mariadb-10.11.yml", stock.replacingOccurrences(
            of: "  - apt: [mariadb-server, mariadb-client]\n",
            with: "  - apt: [mariadb-server, mariadb-client]\n  - run: echo 'edited by a test' > /etc/sandbox-test-\(UUID().uuidString.prefix(8))\n"))
        let plan = try checkout.sandbox(["plan"])
        let port = URLComponents(string: maria)?.port ?? 0
        #expect(plan.stdout == """
        #1 image:acme/mariadb-10.11:\(name), Build, image recipe changed
        #2 instance:dev, EnsureNetwork, the instance's own network: its services find each other on it by name
        #3 service:pg, Nothing, up to date [after #2]
        #4 service:maria, RetireContainer, image recipe changed [after #1 #2]
        #5 service:maria, WriteServiceEnv, its environment, as the instance's network sees the others [after #4]
        #6 service:maria, CreateContainer port=\(port), image recipe changed [after #5]
        #7 service:maria, WaitReady, container created [after #6]
        #8 service:maria, RestoreContainer, the new container failed: the one it replaced runs again, as it was [if #6 or #7 fails]
        #9 service:maria, RemoveContainer, replaced by the new container, which is ready [after #7]

        """)
        let planned = try checkout.sandbox(["plan", "--json"])
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 0, "\(up.stderr)")
        #expect(PlanTruthTests.planned(planned) == PlanTruthTests.done(up))
        let planJSON = try checkout.sandbox(["plan", "--json"])
        #expect(PlanTruthTests.planned(planJSON) == ["#1 service:pg Nothing ()", "#2 service:maria Nothing ()"])
        let after = try checkout.containerIDs()
        #expect(after["pg"] == before["pg"])
        #expect(after["maria"] != before["maria"])
        #expect(try checkout.env() == env, "URLs changed")
        #expect(try Clients.psql(pg, "select count(*) from bookmarks") == "4")
        #expect(try Clients.mysql(maria, "select count(*) from visits") == "4")
        // The test's own tags go with it (the layers stay cached for the next run).
        #expect(try checkout.sandbox(["destroy", "--delete-data"]).status == 0)
        try runProgram("docker", ["rmi", "acme/postgresql-15:\(name)", "acme/mariadb-10.11:\(name)"])
    }

    /// The stock PostgreSQL URL became `postgresql://` (SQLAlchemy refuses `postgres://`). The URL is in no image,
    /// data or container hash, so an instance made before converges without a rebuild, a recreate or a lost row:
    /// `up` changes nothing but the variables it writes.
    @Test func anInstanceMadeWithThePostgresSchemeKeepsItsContainersAndRowsAndGetsTheNewURLs() throws {
        let checkout = try DemoCheckout()
        let name = "url\(UUID().uuidString.prefix(6).lowercased())"
        let demo = DemoCheckout.databasesOnly(try String(contentsOf: Binary.repoRoot.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8))
            .replacingOccurrences(of: "sandbox: demo\n", with: "sandbox: \(name)\n")
        let stock = try String(contentsOf: Binary.repoRoot.appendingPathComponent("Images/postgresql-15.yml"), encoding: .utf8)
        // Before: the stock recipe's and the demo's URLs as they were.
        try checkout.write("Images/postgresql-15.yml", stock.replacingOccurrences(of: "  url: postgresql://", with: "  url: postgres://"))
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "  DATABASE_URL: postgresql://", with: "  DATABASE_URL: postgres://"))
        let first = try checkout.sandbox(["up"])
        #expect(first.status == 0, "\(first.stderr)")
        let old = try #require(try checkout.env()["DATABASE_URL"])
        #expect(old.hasPrefix("postgres://sandbox:"))
        _ = try Clients.psql(old, "insert into bookmarks (url, title) values ('kept', 'kept')")
        let before = try checkout.containerIDs()

        // After a pull: the stock recipe (the override goes) and the demo as they are now.
        try FileManager.default.removeItem(at: checkout.root.appendingPathComponent("Images"))
        try checkout.write("Recipes/demo.yml", demo)
        let plan = try checkout.sandbox(["plan"])
        #expect(plan.stdout == """
        #1 service:pg, Nothing, up to date
        #2 service:maria, Nothing, up to date
        #3 instance:dev, WriteEnv, the env file is out of date [after #1 #2]

        """)
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 0, "\(up.stderr)")
        #expect(PlanTruthTests.done(up) == ["#1 service:pg Nothing ()", "#2 service:maria Nothing ()", "#3 instance:dev WriteEnv ()"])
        #expect(try checkout.containerIDs() == before)
        let url = try #require(try checkout.env()["DATABASE_URL"])
        #expect(url == "postgresql://" + old.dropFirst("postgres://".count), "the same credentials and port, the new scheme")
        let file = try String(contentsOf: checkout.root.appendingPathComponent(".sandbox/dev/env"), encoding: .utf8)
        #expect(file.split(separator: "\n").contains { $0 == "DATABASE_URL=\(url)" }, "\(file)")
        let status = try #require(try JSONSerialization.jsonObject(
            with: Data(checkout.sandbox(["status", "--json", "--show-secrets"]).stdout.utf8)) as? [String: Any])
        let urls = (status["services"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }.sorted()
        #expect(urls.count == 2 && urls[1].hasPrefix("postgresql://sandbox:") && urls[1].hasSuffix("/postgres"), "\(urls)")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "4")
        #expect(try checkout.sandbox(["destroy", "--delete-data"]).status == 0)
        try runProgram("docker", ["rmi", "acme/postgresql-15:\(name)", "acme/mariadb-10.11:\(name)"])
    }
}
