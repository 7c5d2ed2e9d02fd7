import Crypto
import Foundation
import SandboxBase
import Testing

/// `sandbox serve` following a branch: a bare repository as origin, a second clone that pushes, signed push
/// events (and a poll) that fast-forward the served checkout and bring its instances up.
@Suite(.serialized) struct FollowTests {
    static let secret = "hook-secret-for-tests"
    static let identity = ["GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"]

    /// The demo checkout as a clone of a bare origin, and a second clone that pushes to it.
    final class Repositories: @unchecked Sendable {
        let checkout: DemoCheckout
        let origin: URL
        let other: URL

        init(application: Bool = false) throws {
            checkout = try DemoCheckout(application: application)
            origin = checkout.root.appendingPathComponent("../\(checkout.root.lastPathComponent)-origin.git").standardizedFileURL
            other = checkout.root.appendingPathComponent("../\(checkout.root.lastPathComponent)-other").standardizedFileURL
            try checkout.write(".gitignore", ".sandbox/\nserve-*.log\n")
            try FollowTests.git(nil, ["init", "-q", "--bare", "-b", "main", origin.path])
            try FollowTests.git(checkout.root, ["init", "-q", "-b", "main"])
            try FollowTests.git(checkout.root, ["add", "."])
            try FollowTests.git(checkout.root, ["commit", "-q", "-m", "demo"])
            try FollowTests.git(checkout.root, ["remote", "add", "origin", origin.path])
            try FollowTests.git(checkout.root, ["push", "-q", "-u", "origin", "main"])
            try FollowTests.git(nil, ["clone", "-q", origin.path, other.path])
        }

        deinit {
            try? FileManager.default.removeItem(at: origin)
            try? FileManager.default.removeItem(at: other)
        }

        /// Commits `files` in the other clone and pushes; returns the new commit.
        func push(_ files: [String: String], message: String) throws -> String {
            for (path, text) in files {
                let url = other.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            try FollowTests.git(other, ["add", "."])
            try FollowTests.git(other, ["commit", "-q", "-m", message])
            try FollowTests.git(other, ["push", "-q", "origin", "main"])
            return try FollowTests.git(other, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var head: String { (try? FollowTests.git(checkout.root, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "" }
    }

    @discardableResult
    static func git(_ dir: URL?, _ arguments: [String]) throws -> RunResult {
        let r = try runProgram("git", (dir.map { ["-C", $0.path] } ?? []) + arguments, environment: identity, timeout: 120)
        #expect(r.status == 0, "git \(arguments.joined(separator: " ")): \(r.stderr)")
        return r
    }

    /// A GitHub push event for `commit` on main, signed with `secret`.
    static func event(_ serve: ServeProcess, commit: String, secret: String = FollowTests.secret) throws -> ServeProcess.Reply {
        try signed(serve, body: #"{"ref":"refs/heads/main","before":"0000000","after":"\#(commit)","repository":{"full_name":"acme/demo"}}"#,
                   secret: secret)
    }

    /// `body` as a GitHub push event, signed with `secret`.
    static func signed(_ serve: ServeProcess, body: String, secret: String = FollowTests.secret) throws -> ServeProcess.Reply {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let hex = Formatting.hex(mac)
        return try serve.request("POST", "/hooks/git", auth: false,
                                 headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=\(hex)"], body: body)
    }

    /// The follow status of the served checkout once it is no longer busy.
    static func settled(_ serve: ServeProcess, within seconds: TimeInterval = 600) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var follow: [String: Any] = [:]
        while Date() < deadline {
            let checkouts = try serve.request("GET", "/api/v1/checkouts").json["checkouts"] as? [[String: Any]]
            follow = checkouts?.first?["follow"] as? [String: Any] ?? [:]
            if let state = follow["state"] as? String, ["up-to-date", "updated", "refused", "failed"].contains(state) { return follow }
            usleep(200_000)
        }
        Issue.record("the checkout did not settle within \(seconds) s: \(follow)")
        return follow
    }

    /// A push that changes the application and adds a migration: the followed instance runs both, the application
    /// showing the new column, and records the pushed commit.
    @Test func aSignedPushFastForwardsAndTheNewColumnAppearsABadOneChangesNothing() throws {
        let repos = try Repositories(application: true)
        #expect(try repos.checkout.sandbox(["up"]).status == 0)
        let app = try AppTests.appURL(repos.checkout)
        let serve = try ServeProcess(repos.checkout, environment: ["SANDBOX_HOOK_SECRET": Self.secret])
        let before = repos.head
        let code = try String(contentsOf: repos.other.appendingPathComponent("Recipes/demo/bookmarker/app.py"), encoding: .utf8)
        let commit = try repos.push(["Recipes/demo/postgres/migrations/0002-note.sql":
                                        "ALTER TABLE bookmarks ADD COLUMN note text;\nUPDATE bookmarks SET note = 'noted' WHERE title = 'Debian';\n",
                                     "Recipes/demo/bookmarker/app.py": code.replacingOccurrences(
                                        of: "SELECT title, url FROM bookmarks", with: "SELECT title || coalesce(' (' || note || ')', ''), url FROM bookmarks")],
                                    message: "bookmarks get a note, and the page shows it")
        // Badly signed, unsigned: 401, and nothing moves.
        let bad = try Self.event(serve, commit: commit, secret: "not-the-secret")
        #expect(bad.status == 401 && bad.json["code"] as? String == "unauthorized", "\(bad.status) \(bad.body)")
        let unsigned = try serve.request("POST", "/hooks/git", auth: false, body: #"{"ref":"refs/heads/main","after":"\#(commit)"}"#)
        #expect(unsigned.status == 401)
        let notJSON = try Self.signed(serve, body: "ref=refs/heads/main&after=\(commit)")
        #expect(notJSON.status == 400 && notJSON.json["code"] as? String == "bad-request", "\(notJSON.status) \(notJSON.body)")
        #expect(repos.head == before)
        #expect((try serve.request("GET", "/api/v1/operations").json["operations"] as? [Any])?.isEmpty == true)
        // Signed: fetch, fast-forward, up; the migration's column is there.
        let good = try Self.event(serve, commit: commit)
        #expect(good.status == 202 && good.json["checkouts"] as? [String] == [repos.checkout.root.lastPathComponent.lowercased()], "\(good.body)")
        let follow = try Self.settled(serve)
        #expect(follow["state"] as? String == "updated", "\(follow)")
        #expect(repos.head == commit)
        let url = try #require(try repos.checkout.env()["DATABASE_URL"])
        #expect(try Clients.psql(url, "select count(*) from information_schema.columns where table_name = 'bookmarks' and column_name = 'note'") == "1")
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "3", "the data was kept")
        #expect(try AppTests.eventually { try AppTests.get(app).body.contains(">Debian (noted)</a>") }, "the application never showed the note")
        let status = try serve.request("GET", "/api/v1/instances/dev").json
        #expect(status["commit"] as? String == commit, "the instance records the commit it runs")
        // A push of another branch, or a ping, moves nothing.
        #expect(try serve.request("POST", "/hooks/git", auth: false, headers: ["X-Gitlab-Token": Self.secret],
                                  body: #"{"ref":"refs/heads/other","after":"\#(commit)"}"#).json["checkouts"] as? [String] == [])
    }

    @Test func aCheckoutWithLocalEditsOrADivergedBranchIsLeftAloneAndReported() throws {
        let repos = try Repositories()
        #expect(try repos.checkout.sandbox(["up"]).status == 0)
        let receiver = try NotifyTests.Receiver()
        let serve = try ServeProcess(repos.checkout, environment: ["SANDBOX_HOOK_SECRET": Self.secret, "SANDBOX_NOTIFY_URL": receiver.url,
                                                                   "SANDBOX_NOTIFY_SECRET": NotifyTests.secret])
        let commit = try repos.push(["Recipes/demo/postgres/migrations/0002-note.sql": "ALTER TABLE bookmarks ADD COLUMN note text;\n"], message: "note")
        let demo = repos.checkout.root.appendingPathComponent("Recipes/demo.yml")
        let edited = try String(contentsOf: demo, encoding: .utf8) + "# a local edit\n"
        try edited.write(to: demo, atomically: true, encoding: .utf8)
        let before = repos.head
        #expect(try Self.event(serve, commit: commit).status == 202)
        let refused = try Self.settled(serve)
        #expect(refused["state"] as? String == "refused", "\(refused)")
        #expect((refused["reason"] as? String)?.contains("local changes to Recipes/demo.yml") == true, "\(refused)")
        #expect((refused["fix"] as? String)?.contains("stash") == true)
        let after = try String(contentsOf: demo, encoding: .utf8)
        #expect(repos.head == before && after == edited, "the checkout was not touched")
        // The notification says the same, signed.
        let told = try receiver.requests(1).first ?? [:]
        #expect((told["headers"] as? [String: String])?["X-Sandbox-Event"] == "follow-refused")
        #expect(told["signatureValid"] as? Bool == true, "\(told)")
        #expect((told["body"] as? String)?.contains("local changes to Recipes/demo.yml") == true, "\(told)")
        // Diverged: a local commit the upstream does not have.
        try Self.git(repos.checkout.root, ["commit", "-q", "-am", "local work"])
        #expect(try serve.request("POST", "/api/v1/checkouts/\(repos.checkout.root.lastPathComponent.lowercased())/update").status == 202)
        let diverged = try Self.settled(serve)
        #expect(diverged["state"] as? String == "refused" && (diverged["reason"] as? String)?.contains("diverged") == true, "\(diverged)")
        #expect((try serve.request("GET", "/api/v1/operations").json["operations"] as? [Any])?.isEmpty == true, "no instance was touched")
    }

    @Test func aBurstOfPushEventsCausesAtMostTwoUpdatesTheLastAtTheNewestCommit() throws {
        let repos = try Repositories()
        #expect(try repos.checkout.sandbox(["up"]).status == 0)
        let serve = try ServeProcess(repos.checkout, environment: ["SANDBOX_HOOK_SECRET": Self.secret])
        let first = try repos.push(["Recipes/demo/postgres/migrations/0002-a.sql": "ALTER TABLE bookmarks ADD COLUMN a int;\n"], message: "a")
        // The same delivery again (a forge retrying, or a replay) is taken once: the rest answer 200, changing nothing.
        for n in 0..<5 {
            let reply = try Self.event(serve, commit: first)
            #expect(reply.status == (n == 0 ? 202 : 200), "\(reply.body)")
            if n > 0 { #expect((reply.json["result"] as? String)?.hasPrefix("already applied") == true, "\(reply.body)") }
        }
        let newest = try repos.push(["Recipes/demo/postgres/migrations/0003-b.sql": "ALTER TABLE bookmarks ADD COLUMN b int;\n"], message: "b")
        for n in 0..<5 { #expect(try Self.event(serve, commit: newest).status == (n == 0 ? 202 : 200)) }
        let follow = try Self.settled(serve)
        #expect(follow["state"] as? String == "updated" || follow["state"] as? String == "up-to-date", "\(follow)")
        // Settled may be seen between the two runs: wait until nothing is running any more.
        #expect(ReliabilityTests.wait(300) { (try? serve.request("GET", "/api/v1/operations").json["operations"] as? [[String: Any]])?
            .allSatisfy { ["succeeded", "failed", "cancelled"].contains($0["state"] as? String ?? "") } == true && repos.head == newest })
        let runs = (try Self.settled(serve))["runs"] as? Int ?? 0
        let ups = (try serve.request("GET", "/api/v1/operations").json["operations"] as? [[String: Any]])?.filter { $0["kind"] as? String == "up" } ?? []
        #expect(runs >= 1 && runs <= 2, "10 events, \(runs) runs")
        #expect(ups.count >= 1 && ups.count <= 2, "10 events, \(ups.count) updates of the instance")
        #expect(repos.head == newest)
        let url = try #require(try repos.checkout.env()["DATABASE_URL"])
        #expect(try Clients.psql(url, "select count(*) from information_schema.columns where table_name = 'bookmarks' and column_name in ('a', 'b')") == "2")
    }

    @Test func pollingFollowsTheBranchWithoutAnyEvent() throws {
        let repos = try Repositories()
        #expect(try repos.checkout.sandbox(["up"]).status == 0)
        let serve = try ServeProcess(repos.checkout, arguments: ["--poll", "5s"])
        let commit = try repos.push(["Recipes/demo/postgres/migrations/0002-note.sql": "ALTER TABLE bookmarks ADD COLUMN note text;\n"], message: "note")
        #expect(ReliabilityTests.wait(300) { repos.head == commit }, "the poll fetched and fast-forwarded")
        #expect(ReliabilityTests.wait(300) { (try? serve.request("GET", "/api/v1/instances/dev").json["commit"] as? String) == commit })
        // Without SANDBOX_HOOK_SECRET the hook takes nothing.
        let off = try Self.event(serve, commit: commit)
        #expect(off.status == 401 && (off.json["message"] as? String)?.contains("SANDBOX_HOOK_SECRET") == true)
    }
}
