import Foundation
import Testing

/// `sandbox serve` against the real engine: who may call, every endpoint, and operations that never interleave.
@Suite(.serialized) struct ServeTests {
    @Test func withoutTheTokenEveryAPIRequestIs401AndAnotherSitesPageIsRefused() throws {
        let checkout = try DemoCheckout()
        let serve = try ServeProcess(checkout)
        for path in ["/api/v1/instances", "/api/v1/openapi.json", "/api/v1/instances/dev/up", "/api/v1/operations/x", "/api/v1/nope"] {
            let none = try serve.request(path.hasSuffix("/up") ? "POST" : "GET", path, auth: false)
            #expect(none.status == 401, "\(path) without a token: \(none.status)")
            #expect(none.json["code"] as? String == "unauthorized")
            let wrong = try serve.request("GET", path, auth: false, headers: ["Authorization": "Bearer not-the-token-at-all"])
            #expect(wrong.status == 401, "\(path) with a wrong token: \(wrong.status)")
            let cookie = try serve.request("GET", path, auth: false, headers: ["Cookie": "sandbox_token=wrong"])
            #expect(cookie.status == 401)
        }
        // A page of another site may hold the cookie in a browser: what changes something is refused.
        let evil = try serve.request("POST", "/api/v1/instances/dev/up", headers: ["Origin": "http://evil.example"])
        #expect(evil.status == 403 && evil.json["code"] as? String == "cross-origin", "\(evil.status) \(evil.body)")
        let site = try serve.request("POST", "/api/v1/instances/dev/reset", headers: ["Sec-Fetch-Site": "cross-site"])
        #expect(site.status == 403)
        let ops = try serve.request("GET", "/api/v1/operations").json["operations"] as? [Any]
        #expect(ops?.isEmpty == true, "a refused request started nothing")
        // The login link sets an HttpOnly, SameSite=Strict cookie and takes the token out of the address bar.
        let login = try serve.request("GET", "/?token=\(serve.token)", auth: false)
        #expect(login.status == 303 && login.headers["location"] == "/")
        let setCookie = login.headers["set-cookie"] ?? ""
        #expect(setCookie.contains("sandbox_token=\(serve.token)") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
        let withCookie = try serve.request("GET", "/api/v1/instances", auth: false, headers: ["Cookie": "sandbox_token=\(serve.token)"])
        #expect(withCookie.status == 200 && withCookie.json["instances"] != nil)
        let badLink = try serve.request("GET", "/?token=nope", auth: false)
        #expect(badLink.status == 401 && badLink.headers["set-cookie"] == nil)
        // The generated token is kept 0600 and reused.
        let file = checkout.root.appendingPathComponent(".sandbox/serve-token")
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == serve.token)
    }

    @Test func everyEndpointAndAResetThatDiscardsATable() throws {
        let checkout = try DemoCheckout()
        checkout.track("dev")
        let serve = try ServeProcess(checkout)
        let children = ChildWatcher(parent: serve.process.processIdentifier)
        let spec = try serve.request("GET", "/api/v1/openapi.json")
        #expect(spec.status == 200 && (spec.json["openapi"] as? String)?.hasPrefix("3.") == true)
        #expect((try serve.request("GET", "/api/v1/checkouts").json["checkouts"] as? [[String: Any]])?.first?["sandboxes"] as? [String] == ["demo"])
        #expect((try serve.request("GET", "/api/v1/instances/dev/plan").json["actions"] as? [Any])?.isEmpty == false)

        let up = try serve.operate("/api/v1/instances/dev/up")
        #expect(up["state"] as? String == "succeeded", "\(up)")
        #expect((up["events"] as? [[String: Any]])?.contains { $0["event"] as? String == "start" } == true)
        #expect((up["result"] as? [String: Any])?["changed"] as? Bool == true)
        let list = try serve.request("GET", "/api/v1/instances").json["instances"] as? [[String: Any]]
        #expect(list?.map { $0["instance"] as? String } == ["dev"] && list?.first?["checkout"] as? String != nil)
        let status = try serve.request("GET", "/api/v1/instances/dev").json
        #expect((status["services"] as? [[String: Any]])?.allSatisfy { $0["state"] as? String == "running" } == true)
        let databaseURL = try #require(try checkout.env()["DATABASE_URL"])
        let password = try #require(URLComponents(string: databaseURL)?.password)
        let shown = (status["services"] as? [[String: Any]])?.compactMap { $0["url"] as? String }.joined() ?? ""
        #expect(!shown.contains(password) && shown.contains("***"), "passwords are masked unless asked for")
        let revealed = try serve.request("GET", "/api/v1/instances/dev?secrets=true").body
        #expect(revealed.contains(password))
        let env = try serve.request("GET", "/api/v1/instances/dev/env").json
        let url = try #require(env["DATABASE_URL"] as? String)
        #expect(url == (try checkout.env()["DATABASE_URL"]))
        #expect(try serve.request("GET", "/api/v1/instances/dev/plan?action=reset").json["event"] as? String == "plan")

        // A table made by hand, a snapshot with it, a reset that discards it, a restore that brings it back.
        _ = try Clients.psql(url, "create table scratch(x int); insert into scratch values (42)")
        let saved = try serve.operate("/api/v1/instances/dev/snapshots", body: #"{"name":"with-scratch"}"#)
        #expect(saved["state"] as? String == "succeeded", "\(saved)")
        let snapshots = try serve.request("GET", "/api/v1/instances/dev/snapshots").json["snapshots"] as? [[String: Any]]
        #expect(snapshots?.map { $0["name"] as? String } == ["with-scratch"])
        let reset = try serve.operate("/api/v1/instances/dev/reset")
        #expect(reset["state"] as? String == "succeeded", "\(reset)")
        #expect(try Clients.psql(url, "select count(*) from pg_tables where tablename = 'scratch'") == "0")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "3")
        let restored = try serve.operate("/api/v1/instances/dev/snapshots/with-scratch/restore")
        #expect(restored["state"] as? String == "succeeded", "\(restored)")
        #expect(try Clients.psql(url, "select x from scratch") == "42")
        let missing = try serve.operate("/api/v1/instances/dev/snapshots/nope/restore")
        #expect(missing["state"] as? String == "failed" && (missing["error"] as? [String: Any])?["code"] as? String == "no-such-snapshot")

        // Logs: the tail as JSON, and a stream of lines.
        let logs = try serve.request("GET", "/api/v1/instances/dev/logs/pg?tail=5").json
        #expect((logs["lines"] as? [String])?.isEmpty == false, "\(logs)")
        #expect(try serve.request("GET", "/api/v1/instances/dev/logs/nope").status == 404)
        let follow = try runProgram("curl", ["-s", "-N", "--max-time", "3", "-H", "Authorization: Bearer \(serve.token)",
                                             serve.base + "/api/v1/instances/dev/logs/pg?tail=2&follow=true"], timeout: 30)
        #expect(follow.stdout.contains("event: line\ndata: {\"line\":"), "\(follow.stdout)")

        // An operation's events as Server-Sent Events: the same objects as --json, then `end`.
        let down = try serve.request("POST", "/api/v1/instances/dev/down")
        let id = try #require(down.json["id"] as? String)
        let stream = try runProgram("curl", ["-s", "-N", "--max-time", "120", "-H", "Authorization: Bearer \(serve.token)",
                                             serve.base + "/api/v1/operations/\(id)/events"], timeout: 150)
        #expect(stream.stdout.contains("event: start\ndata: {\"action\":\"RemoveContainer"), "\(stream.stdout)")
        #expect(stream.stdout.contains("event: result\n") && stream.stdout.contains("event: end\n"), "\(stream.stdout)")
        #expect(try serve.finished(id)["state"] as? String == "succeeded")
        let all = try serve.request("GET", "/api/v1/operations").json["operations"] as? [[String: Any]]
        #expect(all?.first?["id"] as? String == id, "newest first")
        #expect(try serve.request("DELETE", "/api/v1/operations/\(id)").json["state"] as? String == "succeeded", "a finished one stays as it was")
        let destroyed = try serve.operate("/api/v1/instances/dev/destroy?deleteData=true")
        #expect(destroyed["state"] as? String == "succeeded")
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/pg").path))
        // Mistakes get the JSON error with its code.
        #expect(try serve.request("GET", "/api/v1/instances/Bad_Name!").json["code"] as? String == "invalid-name")
        #expect(try serve.request("GET", "/api/v1/instances/dev?checkout=other").status == 404)
        #expect(try serve.request("POST", "/api/v1/instances/dev/snapshots", body: "{").status == 400)
        #expect(try serve.request("GET", "/api/v1/instances/dev/plan?action=fly").json["code"] as? String == "bad-request")
        // Every read and operation above ran in the server's own process, on the core the CLI uses.
        #expect(children.stop() == [], "serve started sandbox children")
    }

    @Test func theCLIAndTheAPIOnOneInstanceNeverInterleave() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let serve = try ServeProcess(checkout)
        // API first: while its reset holds the instance (the lock's mark is there), the CLI's `up --no-wait` is
        // refused as busy. The operation is queued before its child takes the lock, so the CLI waits for the mark;
        // a reset that ends between the mark and the CLI's try proves nothing, and is tried again.
        let mark = checkout.root.appendingPathComponent(".sandbox/.locks/dev.running")
        var refused = 0
        for _ in 0..<5 where refused == 0 {
            let reset = try serve.request("POST", "/api/v1/instances/dev/reset")
            let id = try #require(reset.json["id"] as? String)
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: mark.path) && Date() < deadline { usleep(5_000) }
            #expect(FileManager.default.fileExists(atPath: mark.path), "the API's reset never took the instance's lock")
            let r = try checkout.sandbox(["up", "--no-wait", "--json"])
            if r.status != 0 { #expect(r.events.last?["code"] as? String == "instance-busy"); refused += 1 }
            #expect(try serve.finished(id)["state"] as? String == "succeeded")
        }
        #expect(refused > 0, "a CLI up came while the API's reset ran")
        // CLI first: an API operation waits for the CLI's lock, then runs; two API operations run one after the other.
        let cli = try ReliabilityTests.start(checkout, ["reset", "--instance", "dev"])
        #expect(ReliabilityTests.wait(30) { FileManager.default.fileExists(atPath: mark.path) }, "the CLI reset holds the instance")
        let first = try #require(try serve.request("POST", "/api/v1/instances/dev/up").json["id"] as? String)
        let second = try serve.request("POST", "/api/v1/instances/dev/down").json
        #expect(second["state"] as? String == "queued", "a second operation on the instance waits its turn: \(second)")
        cli.waitUntilExit()
        #expect(cli.terminationStatus == 0)
        let upOp = try serve.finished(first), downOp = try serve.finished(try #require(second["id"] as? String))
        let waited = (upOp["events"] as? [[String: Any]])?.contains { ($0["message"] as? String)?.contains("waiting for another") == true }
        #expect(waited == true, "the API's up waited for the CLI's lock: \(upOp["events"] ?? [])")
        #expect(upOp["state"] as? String == "succeeded" && downOp["state"] as? String == "succeeded")
        #expect((upOp["finished"] as? String ?? "") <= (downOp["started"] as? String ?? ""), "the second began after the first ended")
    }

    @Test func aStopLetsTheRunningOperationFinishAndRefusesNewOnes() throws {
        let checkout = try DemoCheckout()
        checkout.track("dev")
        let serve = try ServeProcess(checkout)
        let id = try #require(try serve.request("POST", "/api/v1/instances/dev/up").json["id"] as? String)
        #expect(ReliabilityTests.wait(60) { (try? serve.request("GET", "/api/v1/operations/\(id)").json["events"] as? [Any])?.isEmpty == false })
        kill(serve.process.processIdentifier, SIGTERM)
        // While it drains, reads still answer and new operations are refused.
        let refused = try serve.request("POST", "/api/v1/instances/other/up")
        #expect(refused.status == 503 && refused.json["code"] as? String == "shutting-down", "\(refused.status) \(refused.body)")
        #expect(serve.stop(within: 300) == 0, "serve exits cleanly: \(serve.log)")
        // The operation ran to its end: the instance is whole and up-to-date.
        let plan = try checkout.sandbox(["plan", "--json"])
        #expect(plan.events.last?["noop"] as? Bool == true, "\(plan.stdout)")
        #expect(try Clients.psql(try #require(try checkout.env()["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
    }

    @Test func listeningBeyondThisMachineNeedsTLSOrInsecure() throws {
        let checkout = try DemoCheckout()
        let refused = try runProgram(Binary.path, ["serve", "--listen", "0.0.0.0:0"], cwd: checkout.root, timeout: 30)
        #expect(refused.status == 1 && refused.stderr.contains("--tls-cert") && refused.stderr.contains("--insecure"), "\(refused.stderr)")
        let short = try runProgram(Binary.path, ["serve"], cwd: checkout.root, environment: ["SANDBOX_TOKEN": "short"], timeout: 30)
        #expect(short.status == 1 && short.stderr.contains("SANDBOX_TOKEN is too short"))
        // With a certificate, the API answers over HTTPS only.
        let dir = checkout.root.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let made = try runProgram("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                              "-keyout", dir.appendingPathComponent("key.pem").path, "-out", dir.appendingPathComponent("cert.pem").path])
        #expect(made.status == 0, "\(made.stderr)")
        let token = "a-fixed-token-of-enough-length-1234"
        let serve = try ServeProcess(checkout, arguments: ["--tls-cert", dir.appendingPathComponent("cert.pem").path,
                                                           "--tls-key", dir.appendingPathComponent("key.pem").path],
                                     environment: ["SANDBOX_TOKEN": token])
        #expect(serve.base.hasPrefix("https://") && serve.token == token)
        let https = try runProgram("curl", ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                                            serve.base + "/api/v1/checkouts"])
        #expect(https.stdout == "200")
        let plain = try runProgram("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                            serve.base.replacingOccurrences(of: "https", with: "http") + "/api/v1/checkouts"])
        #expect(plain.stdout != "200")
    }
}
