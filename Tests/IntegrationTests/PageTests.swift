import Foundation
import Testing

/// `sandbox serve` from outside: a person in a real browser, and a fuzzer holding the API to its OpenAPI document.
@Suite(.serialized) struct PageTests {
    /// Headless Chromium driven by Selenium (Tests/web/page_test.py): the login link, the instance running, "Open" for
    /// its application showing the bookmarks (one added by hand among them), its connection strings with the password
    /// hidden until asked, a reset confirmed, progress, running again, and the application showing the fresh data.
    @Test func aPersonResetsTheirInstanceFromThePageAndWatchesItComeBack() throws {
        guard let python = TestDeps.python else { return }
        let checkout = try DemoCheckout(application: true)
        #expect(try checkout.sandbox(["up"]).status == 0)
        let url = try #require(try checkout.env()["DATABASE_URL"])
        _ = try Clients.psql(url, "create table made_by_hand(x int)")
        _ = try Clients.psql(url, "insert into bookmarks (url, title) values ('https://hand.example/', 'Added by hand')")
        let serve = try ServeProcess(checkout)
        let shots = checkout.root.appendingPathComponent("screenshots")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        let password = try #require(URLComponents(string: url)?.password)
        let run = try runProgram(python, [Binary.repoRoot.appendingPathComponent("Tests/web/page_test.py").path, serve.link,
                                          "--instance", "dev", "--screenshots", shots.path, "--password", password,
                                          "--seeded", "PostgreSQL", "--seeded", "MariaDB", "--seeded", "Debian", "--added", "Added by hand"],
                                 timeout: 600)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // The reset the person asked for really happened: the table made by hand is gone, the seed is back.
        #expect(try Clients.psql(url, "select count(*) from pg_tables where tablename = 'made_by_hand'") == "0")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "3")
        if let keep = ProcessInfo.processInfo.environment["SANDBOX_KEEP_SCREENSHOTS"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: shots.path)) ?? [] {
                try? FileManager.default.removeItem(atPath: "\(keep)/\(name)")
                try? FileManager.default.copyItem(atPath: shots.appendingPathComponent(name).path, toPath: "\(keep)/\(name)")
            }
        }
    }

    /// schemathesis against the live server: every endpoint but the endless streams (tested in ServeTests), a
    /// fixed seed, tiny toy services so the operations it fires cost little. No 5xx, nothing the schema forbids.
    @Test func schemathesisFindsNoServerErrorAndNoResponseOutsideTheSchema() throws {
        guard let python = TestDeps.python else { return }
        let checkout = try DemoCheckout(files: ["Images/toy.yml": ErrorTests.toy("toy"),
                                                "Recipes/fuzz.yml": ErrorTests.sandbox("fuzz", image: "toy")])
        let serve = try ServeProcess(checkout)
        let up = try serve.operate("/api/v1/instances/dev/up")
        #expect(up["state"] as? String == "succeeded", "\(up)")
        let st = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("st").path
        let run = try runProgram(st, ["run", serve.base + "/api/v1/openapi.json", "-H", "Authorization: Bearer \(serve.token)",
                                      "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                                      "--max-examples", "10", "--seed", "1", "--workers", "1", "--request-timeout", "60",
                                      "--exclude-path", "/api/v1/events", "--exclude-path-regex", "logs"],
                                 cwd: checkout.root, environment: ["NO_COLOR": "1"], timeout: 900)
        #expect(run.status == 0, "\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
        // Every endpoint but the two endless streams was tried.
        let selected = run.stdout.firstMatch(of: /Selected: (\d+)\/(\d+)/), tested = run.stdout.firstMatch(of: /Tested: (\d+)/)
        #expect(selected != nil && tested?.1 == selected?.1 && Int(selected?.2 ?? "") == (Int(selected?.1 ?? "") ?? 0) + 2,
                "\(run.stdout.suffix(800))")
        // Whatever it fired is finished before the checkout is removed.
        let ops = try serve.request("GET", "/api/v1/operations").json["operations"] as? [[String: Any]] ?? []
        for op in ops { _ = try serve.finished(op["id"] as? String ?? "") }
        #expect(serve.stop() == 0, "nothing more can start once serve is gone")
        for name in try FileManager.default.contentsOfDirectory(atPath: checkout.root.appendingPathComponent(".sandbox").path) where !name.hasPrefix(".") && name != "golden"
            && FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/\(name)/instance.json").path) {
            checkout.track(name)
        }
    }
}
