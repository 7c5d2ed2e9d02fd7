import Foundation
import Testing
import SandboxRecipes
import SandboxHost

/// The plan is the whole truth: what `sandbox plan --json` lists is exactly what the command then reports as done.
@Suite(.serialized) struct PlanTruthTests {
    /// `#id target action (arguments)` of an event or a planned action.
    static func line(_ o: [String: Any]) -> String {
        "#\(o["id"] as? Int ?? 0) \(o["target"] as? String ?? "?") \(o["action"] as? String ?? "?") (\(o["arguments"] as? String ?? "?"))"
    }

    /// Every action in a `plan --json` object that runs when nothing fails (compensations run only on a failure),
    /// with its arguments, by number.
    static func planned(_ r: RunResult) -> [String] {
        let plan = r.events.last { $0["event"] as? String == "plan" }
        let actions = plan?["actions"] as? [[String: Any]] ?? []
        // A compensation, and what waits for one, runs only when something fails.
        var compensating: Set<Int> = []
        for a in actions where a["onFailureOf"] != nil || (a["after"] as? [Int] ?? []).contains(where: compensating.contains) {
            compensating.insert(a["id"] as? Int ?? 0)
        }
        return actions.filter { !compensating.contains($0["id"] as? Int ?? 0) }.map(line).sorted()
    }

    /// Every `done` event of a command run with --json, with its arguments, by number.
    static func done(_ r: RunResult) -> [String] {
        r.events.filter { $0["event"] as? String == "done" }.map(line).sorted()
    }

    /// Plans `command` (with `planFlags`), runs it, and expects the two to list the same actions.
    func expectPlanIsWhatRuns(_ checkout: DemoCheckout, _ command: [String], planFlags: [String] = [], instance: String = "dev",
                              expecting: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let plan = try checkout.sandbox(["plan", "--json"] + planFlags, instance: instance)
        #expect(plan.status == 0, "\(plan.stderr)", sourceLocation: sourceLocation)
        let run = try checkout.sandbox(command + ["--json"], instance: instance)
        #expect(run.status == 0, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(Self.planned(plan) == Self.done(run), "\(expecting): planned vs done", sourceLocation: sourceLocation)
        #expect(Self.planned(plan).contains { $0.contains(expecting) }, "\(expecting) not in \(Self.planned(plan))", sourceLocation: sourceLocation)
    }

    @Test func everyCommandDoesExactlyWhatItsPlanSays() throws {
        let checkout = try DemoCheckout()
        // The first instance: images, the golden copy's init and setup, the copy, the containers.
        try expectPlanIsWhatRuns(checkout, ["up"], expecting: "service:pg InitGolden")
        // A second instance starts from the golden copy.
        try expectPlanIsWhatRuns(checkout, ["up"], instance: "second", expecting: "service:pg CopyGoldenData")
        // A new migration.
        try checkout.write("Recipes/demo/postgres/migrations/0002-note.sql", "ALTER TABLE bookmarks ADD COLUMN note text;\n")
        try expectPlanIsWhatRuns(checkout, ["up"], expecting: "RunUpdate sql database=bookmarker demo/postgres/migrations/0002-note.sql")
        // A port another program took while the instance was down: the plan moves it, and up does.
        #expect(try checkout.sandbox(["down"]).status == 0)
        let url = try #require(try checkout.env()["DATABASE_URL"])
        let port = try #require(URLComponents(string: url)?.port)
        let listener = try Listener(port: port)
        try expectPlanIsWhatRuns(checkout, ["up"], expecting: "service:pg CreateContainer port=")
        let moved = try #require(try checkout.env()["DATABASE_URL"])
        #expect(URLComponents(string: moved)?.port != port)
        _ = listener
        // Reset.
        try expectPlanIsWhatRuns(checkout, ["reset"], planFlags: ["--reset"], expecting: "instance:dev SwitchData pg,maria")
        #expect(try Clients.psql(try #require(try checkout.env()["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
        // Restore.
        #expect(try checkout.sandbox(["snapshot", "save", "s1"]).status == 0)
        try expectPlanIsWhatRuns(checkout, ["snapshot", "restore", "s1"], planFlags: ["--restore", "s1"], expecting: "instance:dev SwitchData")
        // A newer PostgreSQL in the recipe: a snapshot, the upgrade with its route, the switch, the new container.
        let recipe = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        try checkout.write("Recipes/demo.yml", recipe.replacingOccurrences(of: "image: postgresql-15", with: "image: postgresql-17"))
        try expectPlanIsWhatRuns(checkout, ["up"], expecting: "service:pg UpgradeData 15->17 dump")
        // A snapshot saved, then deleted.
        try expectPlanIsWhatRuns(checkout, ["snapshot", "save", "s2"], planFlags: ["--snapshot-save", "s2"], expecting: "instance:dev SaveSnapshot s2")
        try expectPlanIsWhatRuns(checkout, ["snapshot", "delete", "s2"], planFlags: ["--snapshot-delete", "s2"],
                                 expecting: "instance:dev DeleteSnapshot s2")
        // Down, then destroy with the data: the same actions, with their arguments, as planned.
        try expectPlanIsWhatRuns(checkout, ["down"], planFlags: ["--down"], expecting: "service:pg RemoveContainer")
        try expectPlanIsWhatRuns(checkout, ["destroy", "--delete-data"], planFlags: ["--destroy", "--delete-data"], expecting: "DeleteData")
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/pg").path))
    }

    @Test func whileResetOrRestoreRunsEveryUpIsRefusedAsBusy() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        #expect(try checkout.sandbox(["snapshot", "save", "s1"]).status == 0)
        for command in [["reset"], ["snapshot", "restore", "s1"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = command + ["--instance", "dev"]
            process.currentDirectoryURL = checkout.root
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait until it holds the instance (a condition with a deadline), then try to `up` while it works.
            let lockFile = checkout.root.appendingPathComponent(".sandbox/.locks/dev.lock")
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline, (try? FileLock.attempt(lockFile)).flatMap({ $0 }) != nil { usleep(5_000) }
            var refused = 0
            for _ in 0..<20 where process.isRunning {
                let up = try checkout.sandbox(["up", "--no-wait", "--json"])
                guard process.isRunning else { break }  // finished meanwhile: this up may legitimately have run
                #expect(up.status == 1 && up.events.contains { $0["code"] as? String == "instance-busy" },
                        "\(command): up ran while it worked: \(up.stdout) \(up.stderr)")
                refused += 1
            }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(command) failed")
            #expect(refused > 0, "\(command) finished before any up could be tried")
        }
        #expect(try Clients.psql(try #require(try checkout.env()["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
    }
}
