import Foundation
import Synchronization
import Testing
@testable import SandboxNotify
@testable import SandboxOperations

/// Outgoing notifications without a network or a clock: the payload, its signature, the settings, the retry
/// schedule (a stand-in transport and sleep), the spool and the log (temporary folders), and what doctor makes of it.
@Suite struct NotifyUnitTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000.25)
    static let commit = String(repeating: "ab", count: 20)

    // MARK: The payload

    @Test func theBodyIsTheResultObjectWithTheEventsFields() {
        let result: [String: Any] = ["event": "result", "instance": "dev", "sandbox": "demo", "changed": true,
                                     "services": [["service": "pg", "url": "postgresql://sandbox:***@127.0.0.1:24012/app"]]]
        let body = NotifyEvent.body(result, kind: .up, checkout: "/src/app", commit: Self.commit, at: Self.at)
        #expect(String(decoding: body, as: UTF8.self) == """
        {"at":"2027-01-15T08:00:00.250Z","changed":true,"checkout":"/src/app","commit":"\(Self.commit)","event":"up","instance":"dev",\
        "sandbox":"demo","services":[{"service":"pg","url":"postgresql://sandbox:***@127.0.0.1:24012/app"}]}
        """)
    }

    @Test func aFailureCarriesTheErrorObjectAndNoCommitOutsideGit() {
        let error: [String: Any] = ["event": "error", "code": "step-failed", "message": "step 'sql' of service pg failed", "fix": "fix the step",
                                    "instance": "ci", "sandbox": "demo"]
        let body = NotifyEvent.body(error, kind: .upFailed, checkout: "/src/app", commit: nil, at: Self.at)
        #expect(String(decoding: body, as: UTF8.self) == """
        {"at":"2027-01-15T08:00:00.250Z","checkout":"/src/app","code":"step-failed","event":"up-failed","fix":"fix the step",\
        "instance":"ci","message":"step 'sql' of service pg failed","sandbox":"demo"}
        """)
    }

    @Test func theSignatureIsHMACSHA256InLowerCaseHex() {
        // RFC 4231, test case 2.
        #expect(NotifyEvent.signature(of: Data("what do ya want for nothing?".utf8), secret: "Jefe")
            == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func headersNameTheEventAndSignTheBodyWhenASecretIsSet() {
        let signed = NotifyEvent(id: "d1", kind: .reset, instance: "dev", object: ["event": "result"], checkout: "/c", commit: nil, at: Self.at,
                                 config: NotifyConfig(urls: ["http://h/x"], secret: "s3cret"))
        #expect(signed.headers.map(\.0) == ["Content-Type", "User-Agent", "X-Sandbox-Event", "X-Sandbox-Delivery", "X-Sandbox-Signature-256"])
        #expect(signed.headers.first { $0.0 == "X-Sandbox-Event" }?.1 == "reset")
        #expect(signed.signature == NotifyEvent.signature(of: Data(signed.body.utf8), secret: "s3cret"))
        let unsigned = NotifyEvent(id: "d2", kind: .down, instance: "dev", object: [:], checkout: "/c", commit: nil, at: Self.at,
                                   config: NotifyConfig(urls: ["http://h/x"]))
        #expect(unsigned.signature == nil && !unsigned.headers.contains { $0.0 == "X-Sandbox-Signature-256" })
    }

    // MARK: Settings

    @Test func theFilePathFollowsTheVariables() {
        #expect(NotifyConfig.filePath(environment: ["SANDBOX_NOTIFY_CONFIG": "/etc/n.yml", "HOME": "/home/a"]) == "/etc/n.yml")
        #expect(NotifyConfig.filePath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/home/a"]) == "/x/sandbox/notify.yml")
        #expect(NotifyConfig.filePath(environment: ["HOME": "/home/a"]) == "/home/a/.config/sandbox/notify.yml")
        #expect(NotifyConfig.filePath(environment: [:]) == nil)
    }

    @Test func theEnvironmentComesFirstAndItsSecretWins() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("notify.yml")
        try "urls:\n  - https://hooks.example.com/a\n  - http://127.0.0.1:9000/b\nsecret: from-file\ntimeout: 2.5\nattempts: 2\n"
            .write(to: file, atomically: true, encoding: .utf8)
        chmod(file.path, 0o600)
        let config = NotifyConfig.load(environment: ["SANDBOX_NOTIFY_CONFIG": file.path, "SANDBOX_NOTIFY_SECRET": "from-env",
                                                     "SANDBOX_NOTIFY_URL": " http://127.0.0.1:9000/b, https://ci.example.com/hook ,"])
        #expect(config == NotifyConfig(urls: ["http://127.0.0.1:9000/b", "https://ci.example.com/hook", "https://hooks.example.com/a"],
                                       secret: "from-env", timeout: 2.5, attempts: 2, file: file.path))
        let fileOnly = NotifyConfig.load(environment: ["SANDBOX_NOTIFY_CONFIG": file.path, "SANDBOX_NOTIFY_SECRET": ""])
        #expect(fileOnly.secret == "from-file" && fileOnly.urls.count == 2)
        chmod(file.path, 0o644)
        #expect(NotifyConfig.load(environment: ["SANDBOX_NOTIFY_CONFIG": file.path]).problems
            == ["\(file.path): holds the secret but others may read it (chmod 600 \(file.path))"])
    }

    @Test func nothingConfiguredIsDisabledWithoutProblems() {
        let config = NotifyConfig.load(environment: ["HOME": "/nonexistent-home", "SANDBOX_NOTIFY_URL": " , "])
        #expect(!config.isEnabled && config.problems.isEmpty && config.file == "/nonexistent-home/.config/sandbox/notify.yml")
    }

    @Test func mistakesInTheFileAreReportedWithTheirPlaceAndSkipped() {
        var config = NotifyConfig()
        config.read("url: http://a/\nurls: [ftp://files.example.com/x, http://ok.example.com/]\ntimeout: soon\nattempts: 50\n", path: "notify.yml")
        #expect(config.urls == ["http://ok.example.com/"])
        #expect(config.timeout == NotifyConfig.defaultTimeout && config.attempts == NotifyConfig.defaultAttempts)
        #expect(config.problems == [
            "notify.yml:1:1: unknown key 'url' in the notification settings (did you mean 'urls'?)",
            "notify.yml:2:8: 'ftp://files.example.com/x' is not an http:// or https:// URL",
            "notify.yml:3:10: 'timeout' must be a number of seconds between 0.1 and 300, not 'soon'",
            "notify.yml:4:11: 'attempts' must be between 1 and 10, not 50",
        ])
        var environment = NotifyConfig.load(environment: ["HOME": "/nonexistent-home", "SANDBOX_NOTIFY_URL": "hooks.example.com/x"])
        #expect(environment.urls == [] && environment.problems == ["SANDBOX_NOTIFY_URL: 'hooks.example.com/x' is not an http:// or https:// URL"])
        environment = NotifyConfig.load(environment: ["SANDBOX_NOTIFY_CONFIG": "/nonexistent/notify.yml"])
        #expect(environment.problems == ["/nonexistent/notify.yml: SANDBOX_NOTIFY_CONFIG names a file that does not exist or cannot be read"])
    }

    @Test func aPasswordInAURLIsNeverShown() {
        #expect(NotifyConfig.display("https://user:pw@hooks.example.com/x?a=1") == "https://user:***@hooks.example.com/x?a=1")
        #expect(NotifyConfig.display("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x")
    }

    // MARK: Delivery

    /// Answers from a script, one per post, and remembers where each went.
    final class ScriptedTransport: WebhookTransport, Sendable {
        let script: Mutex<[String: [WebhookResponse]]>
        let posts = Mutex<[(String, Double)]>([])
        init(_ script: [String: [WebhookResponse]]) { self.script = Mutex(script) }

        func post(_ url: URL, headers: [(String, String)], body: Data, timeout: Double) async -> WebhookResponse {
            posts.withLock { $0.append((url.absoluteString + " " + (headers.first { $0.0 == "X-Sandbox-Delivery" }?.1 ?? ""), timeout)) }
            return script.withLock { script in
                guard var answers = script[url.absoluteString], !answers.isEmpty else { return .status(200) }
                let answer = answers.removeFirst()
                script[url.absoluteString] = answers
                return answer
            }
        }
    }

    final class Recorder: Sendable {
        let entries = Mutex<[NotifyLog.Entry]>([])
        let sleeps = Mutex<[Double]>([])

        func delivery(_ transport: any WebhookTransport) -> NotifyDelivery {
            NotifyDelivery(transport: transport, record: { e in self.entries.withLock { $0.append(e) } },
                           sleep: { s in self.sleeps.withLock { $0.append(s) } }, now: { NotifyUnitTests.at })
        }
    }

    static func event(_ id: String, urls: [String], attempts: Int = 4) -> NotifyEvent {
        NotifyEvent(id: id, kind: .up, instance: "dev", object: [:], checkout: "/c", commit: nil, at: at,
                    config: NotifyConfig(urls: urls, timeout: 3, attempts: attempts))
    }

    @Test func failuresAreRetriedWithBackoffUntilOneGetsThrough() async {
        let url = "http://127.0.0.1:9/hook"
        let recorder = Recorder()
        let transport = ScriptedTransport([url: [.failed("connection refused"), .status(503), .status(204)]])
        let delivered = await recorder.delivery(transport).deliver(Self.event("e1", urls: [url]), to: url)
        #expect(delivered)
        #expect(recorder.sleeps.withLock { $0 } == [0.5, 2])
        let entries = recorder.entries.withLock { $0 }
        #expect(entries.map(\.outcome) == [.retrying, .retrying, .delivered])
        #expect(entries.map(\.error) == ["connection refused", "HTTP 503", nil] && entries.map(\.status) == [nil, 503, 204])
        #expect(entries.map(\.attempt) == [1, 2, 3] && entries.allSatisfy { $0.attempts == 4 && $0.at == "2027-01-15T08:00:00.250Z" })
        #expect(transport.posts.withLock { $0.map(\.1) } == [3, 3, 3], "each attempt gets the event's timeout")
    }

    @Test func attemptsAreBoundedAndARefusalIsNotRetried() async {
        let dead = "http://127.0.0.1:9/dead", refusing = "http://127.0.0.1:9/refusing"
        let recorder = Recorder()
        let transport = ScriptedTransport([dead: Array(repeating: .failed("timed out after 3s"), count: 9), refusing: [.status(401)]])
        #expect(await recorder.delivery(transport).deliver(Self.event("e1", urls: [dead]), to: dead) == false)
        #expect(recorder.sleeps.withLock { $0 } == [0.5, 2, 8])
        #expect(recorder.entries.withLock { $0 }.map(\.outcome) == [.retrying, .retrying, .retrying, .failed])
        #expect(await recorder.delivery(transport).deliver(Self.event("e2", urls: [refusing]), to: refusing) == false)
        #expect(recorder.entries.withLock { $0 }.last.map { ($0.outcome, $0.attempt, $0.error) } ?? (.delivered, 0, nil) == (.failed, 1, "HTTP 401"))
        #expect(NotifyDelivery.isWorthRetrying(.status(429)) && NotifyDelivery.isWorthRetrying(.status(500))
            && !NotifyDelivery.isWorthRetrying(.status(404)))
    }

    @Test func eachURLGetsItsEventsInOrder() async {
        let a = "http://a.example/x", b = "http://b.example/x"
        let transport = ScriptedTransport([b: [.failed("connection refused")]])
        await Recorder().delivery(transport).deliver([Self.event("e1", urls: [a, b], attempts: 1), Self.event("e2", urls: [b]),
                                                      Self.event("e3", urls: [a, b])])
        let posts = transport.posts.withLock { $0.map(\.0) }
        #expect(posts.filter { $0.hasPrefix(a) } == ["\(a) e1", "\(a) e3"])
        #expect(posts.filter { $0.hasPrefix(b) } == ["\(b) e1", "\(b) e2", "\(b) e3"])
    }

    // MARK: Spool and log

    final class StateFolder {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)")
        var state: URL { root.appendingPathComponent(".sandbox") }
        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test func eventsAreTakenOnceOldestFirstAndADeadDeliverersAgain() throws {
        let folder = StateFolder()
        let spool = NotifySpool(stateDirectory: folder.state)
        try spool.add(Self.event("bbbbbbbb-2", urls: ["http://h/"]), at: Self.at.addingTimeInterval(1))
        try spool.add(Self.event("aaaaaaaa-1", urls: ["http://h/"]), at: Self.at)
        #expect(spool.waiting == 2)
        let taken = spool.take(pid: getpid())
        #expect(taken.map(\.event.id) == ["aaaaaaaa-1", "bbbbbbbb-2"])
        #expect(taken.map(\.file.lastPathComponent) == ["001800000000250-aaaaaaaa.event.\(getpid())", "001800000001250-bbbbbbbb.event.\(getpid())"])
        #expect(spool.take(pid: getpid()).isEmpty && spool.waiting == 0, "taken by a live deliverer: no one else takes them")
        // A deliverer that died holding an event: the next one takes it.
        let orphan = taken[1].file.deletingLastPathComponent().appendingPathComponent("001800000001250-bbbbbbbb.event.2147483646")
        try FileManager.default.moveItem(at: taken[1].file, to: orphan)
        #expect(spool.waiting == 1)
        #expect(spool.take(pid: getpid()).map(\.event.id) == ["bbbbbbbb-2"])
        for t in taken { spool.remove(t) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool.directory.path)) ?? ["?"]).isEmpty)
    }

    static func entry(_ url: String, _ outcome: NotifyLog.Outcome, attempt: Int = 1, error: String? = nil) -> NotifyLog.Entry {
        NotifyLog.Entry(at: "2027-01-15T08:00:0\(attempt).000Z", id: "e", event: "up", instance: "dev", url: url, attempt: attempt, attempts: 2,
                        status: nil, error: error, seconds: 0.1, outcome: outcome)
    }

    @Test func theLogIsReadBackAndSummarisedPerURL() throws {
        let folder = StateFolder()
        try FileManager.default.createDirectory(at: folder.state, withIntermediateDirectories: true)
        let log = NotifyLog(stateDirectory: folder.state)
        let written = [Self.entry("http://a/", .delivered), Self.entry("http://b/", .retrying, error: "connection refused"),
                       Self.entry("http://b/", .failed, attempt: 2, error: "connection refused"), Self.entry("http://a/", .delivered)]
        for e in written { log.append(e) }
        try "not json\n".write(to: URL(fileURLWithPath: log.file.path + ".1"), atomically: true, encoding: .utf8)
        #expect(log.entries() == written)
        let summaries = NotifyLog.summaries(log.entries())
        #expect(summaries.map { "\($0.url) \($0.delivered)/\($0.failed) \($0.last.outcome)" } == ["http://a/ 2/0 delivered", "http://b/ 0/1 failed"])
    }

    @Test func doctorNamesTheURLWhoseLastEventFailed() throws {
        let folder = StateFolder()
        #expect(Doctor.notifications(NotifyConfig(), state: folder.state).map(\.message)
                == ["none configured (SANDBOX_NOTIFY_URL, or urls in ~/.config/sandbox/notify.yml)"])
        try FileManager.default.createDirectory(at: folder.state, withIntermediateDirectories: true)
        let log = NotifyLog(stateDirectory: folder.state)
        for e in [Self.entry("http://a/", .delivered), Self.entry("http://b/", .failed, attempt: 2, error: "connection refused")] { log.append(e) }
        let findings = Doctor.notifications(NotifyConfig(urls: ["http://a/", "http://b/"], timeout: 5), state: folder.state)
        #expect(findings == [Doctor.Finding(
            level: .warning, check: "notifications",
            message: "the last event sent to http://b/ did not get there: connection refused "
                + "(up of instance dev at 2027-01-15T08:00:02.000Z, attempt 2 of 2); 0 delivered, 1 failed in the log",
            fix: "make sure http://b/ is up and answers 2xx within 5s; every attempt is in .sandbox/notify.log")])
        #expect(Doctor.notifications(NotifyConfig(urls: ["http://a/"]), state: folder.state) == [Doctor.Finding(level: .ok, check: "notifications",
                                                                                           message: "1 URL(s); 1 event(s) delivered", fix: nil)])
    }
}
