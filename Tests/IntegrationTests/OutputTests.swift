import Foundation
import Testing

/// What people and programs read: plain lines without escape codes when stdout is not a terminal,
/// live lines that collapse into results on a terminal, and JSON that parses, for every command that has it.
@Suite(.serialized) struct OutputTests {
    static let files = [
        "Images/toy.yml": ErrorTests.toy("toy"),
        "Recipes/toy.yml": ErrorTests.sandbox("toy", image: "toy", update: "'true'"),
    ]

    @Test func notATerminalGivesPlainLinesWithoutEscapeCodes() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let r = try checkout.sandbox(["up"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("\u{1B}") && !r.stderr.contains("\u{1B}"), "escape codes in: \(r.stdout.debugDescription)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("service:svc: InitGolden updates=1 (no set-up data for this recipe yet") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("service:svc: WaitReady done in ") })
        #expect(lines.contains("svc: running  "))
        #expect(lines.last == "Variables: .sandbox/dev/env  (eval \"$(sandbox env)\")")
        let again = try checkout.sandbox(["up"])
        #expect(again.stdout.hasPrefix("Everything up to date.\n") && !again.stdout.contains("\u{1B}"), "\(again.stdout)")
    }

    @Test func onATerminalLiveLinesCollapseIntoResults() throws {
        let checkout = try DemoCheckout(files: Self.files)
        // `script` gives the command a pseudo-terminal and copies what it draws.
        let command = "\(Binary.path) up --instance tty"
        let r = try runProgram("script", ["-qfec", command, "/dev/null"], cwd: checkout.root, environment: ["TERM": "xterm", "COLUMNS": "100"])
        _ = try checkout.sandbox(["status"], instance: "tty")
        #expect(r.status == 0, "\(r.stdout)")
        let out = r.stdout
        #expect(out.contains("\u{1B}[2K"), "no line clearing: \(out.debugDescription)")
        // One line per target (here the instance's own steps and the one service), redrawn in place.
        #expect(out.contains("\u{1B}[2A"), "lines are never redrawn: \(out.debugDescription)")
        // While working, the service's line names its current step.
        // Every step is drawn when it starts, so each of the plan's steps shows up on the line while it works.
        for step in ["InitGolden updates=1", "CopyGoldenData", "CreateContainer port=", "WaitReady"] {
            #expect(out.contains(step), "\(step) never drawn: \(out.debugDescription)")
        }
        // The last frame: every line collapsed to a result, no spinner left.
        let lastFrame = out.ranges(of: /\x{1B}\[\d+A/).last.map { String(out[$0.upperBound...]) } ?? out
        #expect(lastFrame.contains("✔ service:svc") && lastFrame.contains("Running"), "last frame: \(lastFrame.debugDescription)")
        #expect(!"⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏".contains { lastFrame.contains($0) }, "a spinner is left: \(lastFrame.debugDescription)")
        #expect(out.contains("svc: running"))
    }

    static func json(_ text: String) -> [[String: Any]]? {
        let lines = text.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return objects.count == lines.count && !objects.isEmpty ? objects : nil
    }

    @Test func everyJSONOutputParses() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let up = try checkout.sandbox(["up", "--json"], instance: "j")
        #expect(up.status == 0, "\(up.stderr)")
        let events = try #require(Self.json(up.stdout), "up --json is not JSON lines: \(up.stdout)")
        let kinds = events.compactMap { $0["event"] as? String }
        #expect(kinds.count == events.count && Set(kinds).isSubset(of: ["start", "done", "message", "result"]), "\(kinds)")
        #expect(kinds.filter { $0 == "start" }.count == kinds.filter { $0 == "done" }.count)
        #expect(events.filter { $0["event"] as? String == "start" }.allSatisfy { $0["target"] is String && $0["action"] is String && $0["cause"] is String })
        let result = try #require(events.last)
        #expect(result["event"] as? String == "result" && result["changed"] as? Bool == true && result["instance"] as? String == "j")
        let service = try #require((result["services"] as? [[String: Any]])?.first)
        #expect(service["state"] as? String == "running" && service["port"] is Int && service["container"] is String)

        let noop = try #require(Self.json(try checkout.sandbox(["up", "--json"], instance: "j").stdout))
        #expect(noop.dropLast().allSatisfy { $0["action"] as? String == "Nothing" }, "\(noop)")
        #expect(noop.last?["changed"] as? Bool == false && noop.last?["dockerCalls"] as? Int == 2, "\(noop)")

        let plan = try #require(Self.json(try checkout.sandbox(["plan", "--json"], instance: "j").stdout))
        #expect(plan.count == 1 && plan[0]["event"] as? String == "plan" && plan[0]["noop"] as? Bool == true)
        let status = try #require(Self.json(try checkout.sandbox(["status", "--json"], instance: "j").stdout))
        #expect(status[0]["event"] as? String == "status" && (status[0]["services"] as? [Any])?.count == 1)
        let list = try #require(Self.json(try runProgram(Binary.path, ["ls", "--json"], cwd: checkout.root).stdout))
        #expect(((list[0]["instances"] as? [[String: Any]]) ?? []).contains { $0["instance"] as? String == "j" }, "\(list)")
        let env = try #require(Self.json(try checkout.sandbox(["env", "--json"], instance: "j").stdout))
        #expect(env.count == 1 && env[0].isEmpty, "the toy sandbox exports nothing: \(env)")
        let snapshots = try #require(Self.json(try checkout.sandbox(["snapshot", "ls", "--json"], instance: "j").stdout))
        #expect(snapshots[0]["event"] as? String == "snapshots")
        let reset = try #require(Self.json(try checkout.sandbox(["reset", "--json"], instance: "j").stdout))
        #expect(reset.last?["event"] as? String == "result")
        let doctor = try #require(Self.json(try runProgram(Binary.path, ["doctor", "--json"], cwd: checkout.root).stdout))
        #expect(doctor[0]["event"] as? String == "doctor" && (doctor[0]["findings"] as? [Any])?.isEmpty == false)
        let down = try #require(Self.json(try checkout.sandbox(["down", "--json"], instance: "j").stdout))
        #expect(down.last?["event"] as? String == "result" && (down.last?["removed"] as? [String]) == ["svc"])
    }

    @Test func everyCommandsHelpHasAnExample() throws {
        let commands = ["up", "plan", "check", "build", "status", "ls", "env", "down", "destroy", "logs", "exec", "shell",
                        "client", "reset", "snapshot", "snapshot save", "snapshot restore", "snapshot ls", "snapshot delete", "doctor",
                        "store", "store create", "store mount", "store status", "push"]
        for command in commands {
            let r = try runProgram(Binary.path, command.split(separator: " ").map(String.init) + ["--help"])
            #expect(r.status == 0 && r.stdout.contains("USAGE: sandbox \(command)"), "\(command): \(r.stdout)")
            #expect(r.stdout.lowercased().contains("example"), "`sandbox \(command) --help` has no example")
        }
        for shell in ["bash", "zsh", "fish"] {
            let r = try runProgram(Binary.path, ["--generate-completion-script", shell])
            #expect(r.status == 0 && r.stdout.contains("snapshot") && r.stdout.contains("doctor"), "\(shell) completions")
        }
    }
}
