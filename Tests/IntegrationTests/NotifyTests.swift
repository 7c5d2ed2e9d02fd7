import Foundation
import Testing

/// Outgoing notifications (docs/notifications.md) against a real receiver, Tests/notify/receiver.py: events for
/// `up`, `reset` and a failed `up`, signed and checked by Python's hmac; receivers that are dead or slow delay no
/// command, from the CLI or through `serve`; the delivery log and `sandbox doctor` name the URL that failed.
@Suite(.serialized) struct NotifyTests {
    static let secret = "s3cret-for-tests"

    /// The receiver, on a free port of 127.0.0.1, stopped at the end.
    final class Receiver: @unchecked Sendable {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("receiver-\(UUID().uuidString.prefix(8))")
        let process = Process()
        private(set) var port = 0

        init(secret: String? = NotifyTests.secret, delay: Double = 0, status: Int = 204) throws {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [Binary.repoRoot.appendingPathComponent("Tests/notify/receiver.py").path,
                                 "--record", record.path, "--port-file", folder.appendingPathComponent("port").path,
                                 "--delay", String(delay), "--status", String(status)] + (secret.map { ["--secret", $0] } ?? [])
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try waitUntil("the receiver listens", within: 30) {
                port = Int((try? String(contentsOf: folder.appendingPathComponent("port"), encoding: .utf8)) ?? "") ?? 0
                return port > 0
            }
        }

        deinit {
            // SIGKILL: a child of the test runner inherits a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }

        var record: URL { folder.appendingPathComponent("requests.jsonl") }
        var url: String { "http://127.0.0.1:\(port)/hooks/sandbox" }

        /// Every request so far, in the order they arrived.
        var requests: [[String: Any]] {
            ((try? String(contentsOf: record, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// Waits for the `count`th request and returns them all.
        func requests(_ count: Int, within seconds: TimeInterval = 60) throws -> [[String: Any]] {
            try waitUntil("\(count) request(s) at the receiver", within: seconds) { requests.count >= count }
            return requests
        }
    }

    /// Polls `condition` until it holds; records a failure naming `what` when the deadline passes.
    static func waitUntil(_ what: String, within seconds: TimeInterval, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        Issue.record("timed out after \(seconds) s waiting for \(what)")
        throw CancellationError()
    }

    /// A port nothing listens on: bound, read, closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, length) == 0, getsockname(fd, $0, &length) == 0 else { throw CocoaError(.fileNoSuchFile) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The settings file and the variables a command gets; XDG_CONFIG_HOME points away from this machine's own file.
    static func environment(_ checkout: DemoCheckout, urls: [String] = [], file: String = "", secret: String? = nil) throws -> [String: String] {
        let config = checkout.root.appendingPathComponent("notify-\(UUID().uuidString.prefix(6)).yml")
        try file.write(to: config, atomically: true, encoding: .utf8)
        return ["SANDBOX_NOTIFY_URL": urls.joined(separator: ","), "SANDBOX_NOTIFY_SECRET": secret ?? "",
                "SANDBOX_NOTIFY_CONFIG": config.path, "XDG_CONFIG_HOME": checkout.root.path]
    }

    /// An object as sorted-key JSON text, to compare two objects whole.
    static func canonical(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// One request checked: signed with the secret, headers naming the event, and the body equal to the command's
    /// own `--json` object with `event`, `checkout`, `commit` and `at` added.
    func expectEvent(_ request: [String: Any], _ event: String, object: [String: Any], checkout: DemoCheckout, commit: String,
                     between start: Date, and end: Date, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let headers = request["headers"] as? [String: String] ?? [:]
        #expect(request["path"] as? String == "/hooks/sandbox", sourceLocation: sourceLocation)
        #expect(headers["X-Sandbox-Event"] == event && headers["Content-Type"] == "application/json", "\(headers)", sourceLocation: sourceLocation)
        #expect(request["signatureValid"] as? Bool == true, "signature \(headers["X-Sandbox-Signature-256"] ?? "none")", sourceLocation: sourceLocation)
        #expect(headers["X-Sandbox-Signature-256"] == request["expectedSignature"] as? String, sourceLocation: sourceLocation)
        var body = Self.json(request["body"] as? String ?? "")
        #expect(body["event"] as? String == event && body["checkout"] as? String == checkout.root.path && body["commit"] as? String == commit,
                "\(body)", sourceLocation: sourceLocation)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let at = (body["at"] as? String).flatMap(format.date(from:))
        #expect(at.map { $0 >= start.addingTimeInterval(-1) && $0 <= end.addingTimeInterval(1) } == true, "at \(body["at"] ?? "none")",
                sourceLocation: sourceLocation)
        for key in ["event", "checkout", "commit", "at"] { body[key] = nil }
        var expected = object
        expected["event"] = nil
        #expect(Self.canonical(body) == Self.canonical(expected), sourceLocation: sourceLocation)
    }

    /// Makes the scratch checkout a git work tree with one commit, and returns it.
    static func commit(_ checkout: DemoCheckout) throws -> String {
        let git = ["-C", checkout.root.path, "-c", "user.name=t", "-c", "user.email=t@example.com"]
        #expect(try runProgram("git", git + ["init", "-q"]).status == 0)
        #expect(try runProgram("git", git + ["commit", "-q", "--allow-empty", "-m", "notify test"]).status == 0)
        return try runProgram("git", git + ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func upResetAndAFailedUpSendSignedEvents() throws {
        let checkout = try DemoCheckout()
        let commit = try Self.commit(checkout)
        let receiver = try Receiver()
        let env = try Self.environment(checkout, urls: [receiver.url], secret: Self.secret)

        var start = Date()
        let up = try checkout.sandbox(["up", "--json"], instance: "hooks", environment: env)
        #expect(up.status == 0, "\(up.stderr)")
        let upResult = try #require(up.result)
        #expect(upResult["changed"] as? Bool == true)
        expectEvent(try receiver.requests(1)[0], "up", object: upResult, checkout: checkout, commit: commit, between: start, and: Date())

        // Nothing changed: no event, and nothing spooled.
        let noop = try checkout.sandbox(["up", "--json"], instance: "hooks", environment: env)
        #expect(noop.result?["changed"] as? Bool == false)
        let spool = checkout.root.appendingPathComponent(".sandbox/.notify")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []).filter { !$0.hasPrefix(".") }.isEmpty)

        // --show-secrets shows passwords on the command's output, never in an event.
        start = Date()
        let reset = try checkout.sandbox(["reset", "--json", "--show-secrets"], instance: "hooks", environment: env)
        #expect(reset.status == 0, "\(reset.stderr)")
        var shown = try #require(reset.result)
        let services = try #require(shown["services"] as? [[String: Any]])
        #expect(services.allSatisfy { !($0["url"] as? String ?? "").contains(":***@") }, "\(services)")
        // The event is the same object with every password (in `url` and in each connection form) as `***`.
        let passwords = services.compactMap { ($0["url"] as? String).flatMap { URLComponents(string: $0)?.password } }
        #expect(passwords.count == services.count, "\(services)")
        func masked(_ value: Any) -> Any {
            if let text = value as? String { return passwords.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") } }
            if let list = value as? [Any] { return list.map(masked) }
            if let object = value as? [String: Any] { return object.mapValues(masked) }
            return value
        }
        shown["services"] = masked(services)
        let afterReset = try receiver.requests(2)
        expectEvent(afterReset[1], "reset", object: shown, checkout: checkout, commit: commit, between: start, and: Date())

        try checkout.write("Recipes/demo/postgres/migrations/0002-broken.sql", "ALTER TABLE no_such_table ADD COLUMN x int;\n")
        start = Date()
        let failed = try checkout.sandbox(["up", "--json"], instance: "hooks", environment: env)
        #expect(failed.status == 1)
        var error = try #require(failed.events.last { $0["event"] as? String == "error" })
        #expect(error["code"] as? String == "step-failed")
        error["instance"] = "hooks"
        error["sandbox"] = "demo"
        let all = try receiver.requests(3)
        expectEvent(all[2], "up-failed", object: error, checkout: checkout, commit: commit, between: start, and: Date())
        #expect(all.count == 3, "the no-op up sent nothing: \(all.map { ($0["headers"] as? [String: String])?["X-Sandbox-Event"] ?? "?" })")

        // The log has one delivered attempt per event, and doctor says so.
        let log = try String(contentsOf: checkout.root.appendingPathComponent(".sandbox/notify.log"), encoding: .utf8)
        let entries = log.split(separator: "\n").map { Self.json(String($0)) }
        #expect(entries.map { $0["event"] as? String ?? "" } == ["up", "reset", "up-failed"])
        #expect(entries.allSatisfy { $0["outcome"] as? String == "delivered" && $0["status"] as? Int == 204 && $0["url"] as? String == receiver.url })
        let doctor = Self.json(try runProgram(Binary.path, ["doctor", "--json"], cwd: checkout.root, environment: env).stdout)
        let findings = (doctor["findings"] as? [[String: Any]] ?? []).filter { $0["check"] as? String == "notifications" }
        #expect(findings.count == 1 && findings.first?["level"] as? String == "ok" && findings.first?["message"] as? String == "1 URL(s); 3 event(s) delivered",
                "\(findings)")
    }

    /// A command's duration, and when its standard output reached its end: a pipe's end comes only when every
    /// process holding it has closed it, so a deliverer that kept it would hold up `$(sandbox …)` and `serve`.
    static func timed(_ checkout: DemoCheckout, _ arguments: [String], instance: String,
                      environment: [String: String]) throws -> (status: Int32, seconds: Double, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments + ["--instance", instance]
        process.currentDirectoryURL = checkout.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        try? pipe.fileHandleForWriting.close()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Date().timeIntervalSince(start), String(decoding: output, as: UTF8.self))
    }

    @Test func deadAndSlowReceiversDelayNoCommand() throws {
        let checkout = try DemoCheckout()
        let instance = "slowhooks"
        let quiet = try Self.environment(checkout)
        #expect(try checkout.sandbox(["up"], instance: instance, environment: quiet).status == 0)

        // Without notifications: the durations to compare with, and nothing spooled or logged.
        var baseline: [String: Double] = [:]
        for command in [["reset", "--json"], ["down", "--json"], ["up", "--json"]] {
            let r = try Self.timed(checkout, command, instance: instance, environment: quiet)
            #expect(r.status == 0)
            baseline[command[0]] = r.seconds
        }
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/.notify").path))
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/notify.log").path))

        // A receiver that answers after five minutes, and a port nothing listens on; 10 s per attempt, 2 attempts.
        let slow = try Receiver(delay: 300)
        let dead = "http://127.0.0.1:\(try Self.closedPort())/gone"
        let timeout = 10.0
        let env = try Self.environment(checkout, urls: [slow.url], file: "urls: [\(dead)]\ntimeout: \(Int(timeout))\nattempts: 2\n", secret: Self.secret)
        var measured: [String: Double] = [:]
        for command in [["reset", "--json"], ["down", "--json"], ["up", "--json"]] {
            let r = try Self.timed(checkout, command, instance: instance, environment: env)
            #expect(r.status == 0)
            #expect(Self.json(String(r.stdout.split(separator: "\n").last ?? ""))["event"] as? String == "result", "\(r.stdout)")
            measured[command[0]] = r.seconds
            let base = try #require(baseline[command[0]])
            #expect(r.seconds < base + timeout, "\(command[0]) took \(r.seconds) s with a slow and a dead receiver, \(base) s without")
        }
        print("notify: durations without receivers \(baseline), with a slow and a dead one \(measured)")
        #expect(Set(try slow.requests(3).compactMap { ($0["headers"] as? [String: String])?["X-Sandbox-Event"] }) == ["reset", "down", "up"])

        // Each URL: two attempts per event, then given up; the reason in the log, and doctor names both URLs.
        let logFile = checkout.root.appendingPathComponent(".sandbox/notify.log")
        var entries: [[String: Any]] = []
        try Self.waitUntil("every attempt in the log", within: 2 * timeout + 30) {
            entries = ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map { Self.json(String($0)) }
            return entries.filter { $0["outcome"] as? String == "failed" }.count == 6
        }
        for (url, reason) in [(dead, "connection refused"), (slow.url, "timed out after 10s")] {
            let mine = entries.filter { $0["url"] as? String == url }
            #expect(mine.count == 6 && mine.allSatisfy { $0["error"] as? String == reason }, "\(url): \(mine)")
            #expect(mine.filter { $0["attempt"] as? Int == 1 }.allSatisfy { $0["outcome"] as? String == "retrying" })
            #expect(mine.filter { $0["attempt"] as? Int == 2 }.allSatisfy { $0["outcome"] as? String == "failed" })
        }
        let slowSeconds = entries.filter { $0["url"] as? String == slow.url }.compactMap { $0["seconds"] as? Double }
        #expect(slowSeconds.allSatisfy { $0 >= timeout - 0.5 && $0 < timeout + 5 }, "each attempt ends at the timeout: \(slowSeconds)")
        print("notify: attempts to the slow receiver took \(slowSeconds) s")

        let doctor = Self.json(try runProgram(Binary.path, ["doctor", "--json"], cwd: checkout.root, environment: env).stdout)
        let warnings = (doctor["findings"] as? [[String: Any]] ?? []).filter { $0["check"] as? String == "notifications" }
        #expect(warnings.count == 2 && warnings.allSatisfy { $0["level"] as? String == "warning" && ($0["fix"] as? String ?? "").contains("notify.log") },
                "\(warnings)")
        for (url, reason) in [(dead, "connection refused"), (slow.url, "timed out after 10s")] {
            #expect(warnings.contains { ($0["message"] as? String ?? "").hasPrefix("the last event sent to \(url) did not get there: \(reason)") },
                    "\(warnings)")
        }
    }

    @Test func serveSendsTheSameEventsAndIsNotHeldUp() throws {
        let checkout = try DemoCheckout()
        let commit = try Self.commit(checkout)
        let receiver = try Receiver(delay: 300)
        let env = try Self.environment(checkout, urls: [receiver.url], file: "timeout: 30\nattempts: 1\n", secret: Self.secret)
        checkout.track("dev")
        let serve = try ServeProcess(checkout, environment: env)
        let up = try serve.operate("/api/v1/instances/dev/up")
        #expect(up["state"] as? String == "succeeded", "\(up)")
        // The receiver holds each request five minutes and the deliverer gives up after 30 s: an operation that
        // waited for either (serve reads each command's output to its end) would take 30 s or more.
        let start = Date()
        let reset = try serve.operate("/api/v1/instances/dev/reset")
        let seconds = Date().timeIntervalSince(start)
        #expect(reset["state"] as? String == "succeeded", "\(reset)")
        #expect(seconds < 30, "the reset through serve took \(seconds) s")
        print("notify: a reset through serve with a slow receiver took \(seconds) s")
        let requests = try receiver.requests(2)
        #expect(requests.compactMap { ($0["headers"] as? [String: String])?["X-Sandbox-Event"] } == ["up", "reset"])
        for request in requests {
            let body = Self.json(request["body"] as? String ?? "")
            #expect(request["signatureValid"] as? Bool == true && body["commit"] as? String == commit && body["instance"] as? String == "dev")
        }
        serve.stop()
    }
}
