import Foundation
import Testing

/// `sandbox serve --previews`: a sandbox per branch, made by a push, updated by the next, removed with its branch or
/// when its time runs out; the limit refuses and leaves what runs alone. A bare origin and a second clone that pushes.
@Suite(.serialized) struct PreviewTests {
    /// The repositories, and at the end every preview folder beside the checkout taken down with its containers.
    final class Previews: @unchecked Sendable {
        let repos: FollowTests.Repositories
        init() throws { repos = try FollowTests.Repositories(application: true) }
        var folder: URL { repos.checkout.root.appendingPathComponent("../\(repos.checkout.root.lastPathComponent).previews").standardizedFileURL }

        deinit {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
                let root = folder.appendingPathComponent(name)
                _ = try? runProgram(Binary.path, ["destroy", "--delete-data", "--instance", name], cwd: root, timeout: 120)
                for kind in [["ps", "-aq"], ["network", "ls", "-q"]] {
                    let ids = (try? runProgram("docker", kind + ["--filter", "label=dev.sandbox.checkout-path=\(root.path)"]).stdout) ?? ""
                    if !ids.isEmpty { _ = try? runProgram("docker", (kind[0] == "ps" ? ["rm", "-f"] : ["network", "rm"]) + ids.split(separator: "\n").map(String.init)) }
                }
            }
            try? FileManager.default.removeItem(at: folder)
        }

        /// Commits `files` on `branch` in the other clone (made from main when new) and pushes it; returns the commit.
        func push(_ branch: String, _ files: [String: String]) throws -> String {
            let other = repos.other
            if try runProgram("git", ["-C", other.path, "show-ref", "--verify", "--quiet", "refs/heads/\(branch)"]).status != 0 {
                try FollowTests.git(other, ["switch", "-q", "-c", branch, "origin/main"])
            } else {
                try FollowTests.git(other, ["switch", "-q", branch])
            }
            for (path, text) in files {
                let url = other.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            try FollowTests.git(other, ["add", "."])
            try FollowTests.git(other, ["commit", "-q", "-m", "\(branch): \(files.keys.sorted().joined(separator: ", "))"])
            try FollowTests.git(other, ["push", "-q", "-u", "origin", branch])
            return try FollowTests.git(other, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// A migration adding `column`, and the application showing it after each title.
        func change(_ column: String, code: String) -> [String: String] {
            ["Recipes/demo/postgres/migrations/0002-\(column).sql": "ALTER TABLE bookmarks ADD COLUMN \(column) text DEFAULT '\(column)';\n",
             "Recipes/demo/bookmarker/app.py": code.replacingOccurrences(
                of: "SELECT title, url FROM bookmarks", with: "SELECT title || ' [' || \(column) || ']', url FROM bookmarks")]
        }
    }

    static func hook(_ serve: ServeProcess, _ branch: String, _ commit: String) throws -> ServeProcess.Reply {
        try FollowTests.signed(serve, body: #"{"ref":"refs/heads/\#(branch)","before":"0000000","after":"\#(commit)","repository":{"full_name":"acme/demo"}}"#)
    }

    static func previews(_ serve: ServeProcess) throws -> [[String: Any]] {
        try serve.request("GET", "/api/v1/previews").json["previews"] as? [[String: Any]] ?? []
    }

    /// The preview of `branch` once it is `state` at `commit` (when given); records a failure after the deadline.
    @discardableResult
    static func settled(_ serve: ServeProcess, _ branch: String, state: String = "ready", commit: String? = nil,
                        within seconds: TimeInterval = 600) throws -> [String: Any] {
        var found: [String: Any] = [:]
        let ok = ReliabilityTests.wait(seconds) {
            found = (try? previews(serve))?.first { $0["branch"] as? String == branch } ?? [:]
            return found["state"] as? String == state && (commit == nil || found["commit"] as? String == commit)
        }
        #expect(ok, "preview of \(branch) never got to \(state) \(commit ?? ""): \(found)")
        return found
    }

    static func events(_ receiver: NotifyTests.Receiver, _ kind: String) -> [[String: Any]] {
        receiver.requests.filter { ($0["headers"] as? [String: String])?["X-Sandbox-Event"] == kind }
            .compactMap { ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
    }

    @Test func twoBranchesGetTwoPreviewsEachWithItsCodeAndDataUpdatedAloneAndRemovedWithItsBranch() throws {
        let p = try Previews()
        let checkout = p.repos.checkout
        #expect(try checkout.sandbox(["up"]).status == 0, "the checkout's own instance makes the golden data previews copy")
        let receiver = try NotifyTests.Receiver()
        let serve = try ServeProcess(checkout, arguments: ["--previews", "feature/*", "--preview-limit", "2"],
                                     environment: ["SANDBOX_HOOK_SECRET": FollowTests.secret, "SANDBOX_NOTIFY_URL": receiver.url,
                                                   "SANDBOX_NOTIFY_SECRET": NotifyTests.secret])
        let code = try String(contentsOf: p.repos.other.appendingPathComponent("Recipes/demo/bookmarker/app.py"), encoding: .utf8)
        let a1 = try p.push("feature/a", p.change("alpha", code: code))
        #expect(try Self.hook(serve, "feature/a", a1).status == 202)
        let b1 = try p.push("feature/b", p.change("beta", code: code))
        let reply = try Self.hook(serve, "feature/b", b1)
        #expect(reply.status == 202 && reply.json["previews"] as? [String] != nil, "\(reply.body)")
        let a = try Self.settled(serve, "feature/a", commit: a1), b = try Self.settled(serve, "feature/b", commit: b1)
        let aID = try #require(a["id"] as? String), bID = try #require(b["id"] as? String)

        // Each preview's database has its branch's migration only, and its application shows its branch's code.
        for (preview, own, other) in [(a, "alpha", "beta"), (b, "beta", "alpha")] {
            let id = preview["id"] as? String ?? "", instance = preview["instance"] as? String ?? ""
            let env = try serve.request("GET", "/api/v1/instances/\(instance)/env?checkout=\(id)").json
            let url = try #require(env["DATABASE_URL"] as? String, "\(env)")
            #expect(try Clients.psql(url, "select count(*) from information_schema.columns where table_name = 'bookmarks' and column_name in ('\(own)', '\(other)')") == "1")
            #expect(try Clients.psql(url, "select count(*) from bookmarks where \(own) = '\(own)'") == "3", "seeded data, copied from the golden copy")
            let app = try #require((preview["urls"] as? [String: String])?["web"], "\(preview)")
            #expect(try AppTests.eventually { try AppTests.get(app).body.contains("Debian [\(own)]") }, "\(app) never showed \(own)")
            #expect(FileManager.default.fileExists(atPath: (preview["worktree"] as? String ?? "") + "/Recipes/demo.yml"))
        }
        #expect(try checkout.sandbox(["ls"]).stdout.contains("feature") == false, "previews are not the checkout's instances")
        let ready = Self.events(receiver, "preview-ready")
        #expect(Set(ready.compactMap { $0["branch"] as? String }) == ["feature/a", "feature/b"], "\(ready)")
        #expect(ready.allSatisfy { ($0["urls"] as? [String: String])?["web"]?.hasPrefix("http://127.0.0.1:") == true && ($0["page"] as? String)?.contains("#preview=") == true })
        #expect(ready.first { $0["branch"] as? String == "feature/a" }?["commit"] as? String == a1, "the event names the preview's commit")

        // A person at the page: the preview of feature/a is listed ready, its application opens, Keep moves its end.
        if let python = TestDeps.python {
            let shots = checkout.root.appendingPathComponent("screenshots")
            try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
            let run = try runProgram(python, [Binary.repoRoot.appendingPathComponent("Tests/web/preview_test.py").path, serve.link,
                                              "--branch", "feature/a", "--shows", "Debian [alpha]", "--screenshots", shots.path], timeout: 300)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            let kept = try Self.previews(serve).first { $0["id"] as? String == aID }?["expires"] as? String ?? ""
            #expect(kept > (a["expires"] as? String ?? ""), "Keep on the page moved the end: \(a["expires"] ?? "") → \(kept)")
            if let keep = ProcessInfo.processInfo.environment["SANDBOX_KEEP_SCREENSHOTS"] {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: shots.path)) ?? [] {
                    try? FileManager.default.removeItem(atPath: "\(keep)/\(name)")
                    try? FileManager.default.copyItem(atPath: shots.appendingPathComponent(name).path, toPath: "\(keep)/\(name)")
                }
            }
        }

        // A second push to feature/a updates it alone.
        let a2 = try p.push("feature/a", ["Recipes/demo/postgres/migrations/0003-alpha2.sql": "ALTER TABLE bookmarks ADD COLUMN alpha2 int;\n"])
        #expect(try Self.hook(serve, "feature/a", a2).status == 202)
        try Self.settled(serve, "feature/a", commit: a2)
        let ops = try serve.request("GET", "/api/v1/operations").json["operations"] as? [[String: Any]] ?? []
        #expect(ops.filter { $0["checkout"] as? String == aID && $0["kind"] as? String == "up" }.count == 2)
        #expect(ops.filter { $0["checkout"] as? String == bID }.count == 1, "feature/b was not touched: \(ops.map { "\($0["checkout"] ?? "") \($0["kind"] ?? "")" })")
        let aEnv = try serve.request("GET", "/api/v1/instances/\(a["instance"] as? String ?? "")/env?checkout=\(aID)").json
        #expect(try Clients.psql(aEnv["DATABASE_URL"] as? String ?? "", "select count(*) from information_schema.columns where column_name = 'alpha2'") == "1")

        // At the limit (2), a third branch is refused with its event, and both previews keep answering.
        let c1 = try p.push("feature/c", ["c.txt": "c\n"])
        #expect(try Self.hook(serve, "feature/c", c1).status == 202)
        try NotifyTests.waitUntil("preview-refused", within: 120) { !Self.events(receiver, "preview-refused").isEmpty }
        let refused = Self.events(receiver, "preview-refused").first ?? [:]
        #expect(refused["branch"] as? String == "feature/c" && (refused["reason"] as? String)?.contains("--preview-limit 2") == true, "\(refused)")
        #expect(try Self.previews(serve).count == 2)
        for preview in try Self.previews(serve) {
            #expect(try AppTests.get((preview["urls"] as? [String: String])?["web"] ?? "").status == 200)
        }

        // Each preview's application image has a tag of its own (two branches never take one tag from each other).
        let images = try Self.previews(serve).map { (($0["services"] as? [[String: Any]]) ?? []).first { $0["service"] as? String == "web" }?["image"] as? String ?? "" }
        #expect(images.count == 2 && Set(images).count == 2 && images.allSatisfy { $0.hasPrefix("acme/bookmarker:demo-") }, "\(images)")
        let bImage = ((b["services"] as? [[String: Any]]) ?? []).first { $0["service"] as? String == "web" }?["image"] as? String ?? ""

        // Deleting feature/b removes its preview, worktree, containers, data and its own image tag.
        let worktree = try #require(b["worktree"] as? String)
        try FollowTests.git(p.repos.other, ["push", "-q", "origin", "--delete", "feature/b"])
        let deleted = try FollowTests.signed(serve, body: #"{"ref":"refs/heads/feature/b","before":"\#(b1)","after":"0000000000000000000000000000000000000000","deleted":true}"#)
        #expect(deleted.status == 202, "\(deleted.body)")
        try NotifyTests.waitUntil("feature/b removed", within: 300) { (try Self.previews(serve)).map { $0["branch"] as? String } == ["feature/a"] }
        #expect(!FileManager.default.fileExists(atPath: worktree), "its worktree is gone")
        #expect(try runProgram("docker", ["image", "inspect", bImage]).status != 0, "\(bImage) was removed with its preview")
        #expect((try runProgram("docker", ["ps", "-aq", "--filter", "label=dev.sandbox.checkout-path=\(worktree)"])).stdout.isEmpty)
        #expect(!(try FollowTests.git(checkout.root, ["worktree", "list"]).stdout.contains(worktree)))
        try NotifyTests.waitUntil("preview-removed", within: 60) { Self.events(receiver, "preview-removed").contains { $0["branch"] as? String == "feature/b" } }
        #expect(try AppTests.get((try Self.previews(serve).first?["urls"] as? [String: String])?["web"] ?? "").status == 200, "feature/a still answers")
    }

    @Test func aPreviewNobodyKeepsIsWarnedAboutThenDestroyedAndKeepExtendsIt() throws {
        let p = try Previews()
        #expect(try p.repos.checkout.sandbox(["up"]).status == 0)
        let receiver = try NotifyTests.Receiver()
        let serve = try ServeProcess(p.repos.checkout, arguments: ["--previews", "feature/*", "--preview-ttl", "40s"],
                                     environment: ["SANDBOX_HOOK_SECRET": FollowTests.secret, "SANDBOX_NOTIFY_URL": receiver.url,
                                                   "SANDBOX_NOTIFY_SECRET": NotifyTests.secret])
        let t1 = try p.push("feature/t", ["t.txt": "t\n"])
        #expect(try Self.hook(serve, "feature/t", t1).status == 202)
        let ready = try Self.settled(serve, "feature/t", commit: t1)
        let id = try #require(ready["id"] as? String), worktree = try #require(ready["worktree"] as? String)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let before = try #require(formatter.date(from: ready["expires"] as? String ?? ""))
        let kept = try serve.request("POST", "/api/v1/previews/\(id)/keep")
        #expect(kept.status == 200, "\(kept.body)")
        let after = try #require(formatter.date(from: kept.json["expires"] as? String ?? ""))
        #expect(after > before, "Keep moved the end from \(before) to \(after)")
        #expect(try serve.request("POST", "/api/v1/previews/nope~x/keep").status == 404)
        // A preview's checkout id reaches its own instance only.
        #expect(try serve.request("GET", "/api/v1/instances/other?checkout=\(id)").status == 404)
        #expect(try serve.request("GET", "/api/v1/instances/\(ready["instance"] as? String ?? "")?checkout=\(id)").status == 200)
        // A branch whose .sandbox is a link elsewhere gets no instance: its state and data would live outside its worktree.
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("evil-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: target) }
        try FollowTests.git(p.repos.other, ["switch", "-q", "-c", "feature/evil", "origin/main"])
        try FileManager.default.createSymbolicLink(atPath: p.repos.other.appendingPathComponent(".sandbox").path, withDestinationPath: target.path)
        try FollowTests.git(p.repos.other, ["add", "-f", ".sandbox"])
        try FollowTests.git(p.repos.other, ["commit", "-q", "-m", "a link"])
        try FollowTests.git(p.repos.other, ["push", "-q", "-u", "origin", "feature/evil"])
        let evil = try FollowTests.git(p.repos.other, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FollowTests.git(p.repos.other, ["switch", "-q", "main"])
        #expect(try Self.hook(serve, "feature/evil", evil).status == 202)
        let refused = try Self.settled(serve, "feature/evil", state: "failed")
        #expect((refused["reason"] as? String)?.contains("has a .sandbox of its own") == true, "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: target.path), "nothing was written through the link")
        // Nobody keeps it again: a warning, then it is destroyed with its worktree.
        try NotifyTests.waitUntil("preview-expiring", within: 120) { Self.events(receiver, "preview-expiring").contains { $0["branch"] as? String == "feature/t" } }
        #expect(try Self.previews(serve).contains { $0["branch"] as? String == "feature/t" }, "the warning comes before the end")
        try NotifyTests.waitUntil("preview-removed", within: 180) { Self.events(receiver, "preview-removed").contains { $0["branch"] as? String == "feature/t" } }
        let removed = Self.events(receiver, "preview-removed").first { $0["branch"] as? String == "feature/t" }
        #expect((removed?["reason"] as? String)?.contains("time to live") == true, "\(removed ?? [:])")
        try NotifyTests.waitUntil("every preview gone", within: 180) { try Self.previews(serve).isEmpty }
        #expect(!FileManager.default.fileExists(atPath: target.path), "nothing was written through the link, the removal included")
        #expect(!FileManager.default.fileExists(atPath: worktree))
    }
}
