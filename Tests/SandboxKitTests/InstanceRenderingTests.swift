import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxHost

/// Templates filled in for one instance: references, defaults, quoting, URLs and the env file.
@Suite struct InstanceRenderingTests {
    let fixture: PlannerFixture
    init() throws { fixture = try PlannerFixture() }

    var rendering: Rendering {
        let stamp = DataStamp(engine: "postgresql", version: "15", imageHash: "i", freshHash: "f", setupHash: "s",
                              user: "sandbox", password: "pw0rd", updates: [:])
        return Rendering(sandbox: fixture.sandbox, instance: "ci-2", ports: ["db": 20001, "analytics": 3306],
                         stamps: ["db": stamp], environment: ["APP_NAME": "shop app", "EMPTY": ""])
    }

    @Test func sandboxReferences() {
        let r = rendering
        #expect(r.sandboxValue("instance") == "ci-2")
        #expect(r.sandboxValue("sandbox") == "shop")
        #expect(r.sandboxValue("db.port") == "20001")
        #expect(r.sandboxValue("db.host") == "127.0.0.1")
        #expect(r.sandboxValue("db.user") == "sandbox")
        #expect(r.sandboxValue("db.password") == "pw0rd")
        #expect(r.sandboxValue("analytics.password") == nil, "no stamp, no password")
        #expect(r.sandboxValue("env.APP_NAME") == "shop app")
        #expect(r.sandboxValue("env.MISSING") == nil)
        #expect(r.sandboxValue("nosuch.port") == nil)
        #expect(r.sandboxValue("db.nosuch") == nil)
        #expect(r.sandboxValue("db") == nil)
    }

    @Test func urlsUseThePublishedPortAndTheStampsCredentials() {
        let r = rendering
        #expect(r.url(fixture.db) == "postgresql://sandbox:pw0rd@127.0.0.1:20001/postgres")
        #expect(Rendering(sandbox: fixture.sandbox, instance: "x", ports: [:], stamps: [:]).url(fixture.db) == nil, "no port, no URL")
    }

    @Test func templatesRenderWithDefaultsAndFailOnUnsetReferences() throws {
        let template = try Template.parse("{a}-{b:-fallback}-{{literal}}").get()
        #expect(template.references == ["a", "b"])
        #expect(try template.render { $0 == "a" ? "1" : nil } == "1-fallback-{literal}")
        #expect(try template.render { ["a": "x y", "b": "it's"][$0] } == "x y-it's-{literal}")
        #expect(try template.render(quote: true) { ["a": "x y", "b": "it's"][$0] } == "'x y'-'it'\\''s'-{literal}")
        #expect(throws: UnresolvedReference(name: "a", template: "{a}-{b:-fallback}-{{literal}}")) { try template.render { _ in nil } }
        if case let .failure(error) = Template.parse("x {a") { #expect(error.offset == 2) } else { Issue.record("an unclosed brace parsed") }
        if case .success = Template.parse("{a b}") { Issue.record("a reference with a space parsed") }
        if case .success = Template.parse("}") { Issue.record("a lone closing brace parsed") }
    }

    @Test func shellQuotingLeavesSafeWordsAndQuotesEverythingElse() {
        #expect(shellQuote("demo/migrations/0001.sql") == "demo/migrations/0001.sql")
        #expect(shellQuote("user@host:5432") == "user@host:5432")
        #expect(shellQuote("") == "''")
        #expect(shellQuote("a b") == "'a b'")
        #expect(shellQuote("it's") == "'it'\\''s'")
        #expect(shellQuote("$(rm -rf /)") == "'$(rm -rf /)'")
        #expect(shellQuote("`x`;y|z&") == "'`x`;y|z&'")
        #expect(shellQuote("naïve") == "'naïve'")
    }

    @Test func quotedValuesSurviveARealShellUnchanged() throws {
        for value in ["it's", "a \"b\" c", "$HOME `id` $(id)", "new\nline", "back\\slash", "ünïcödé", "-n"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "printf '%s' " + shellQuote(value)]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            process.waitUntilExit()
            #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == value)
        }
    }

    @Test func theEnvFileCanBeSourced() {
        #expect(Rendering.envFile([("A", "plain"), ("B", "with space"), ("C", "it's")]) == "A=plain\nB='with space'\nC='it'\\''s'\n")
        #expect(Rendering.envFile([]) == "")
    }

    @Test func startAndReadyRenderWithoutAStamp() throws {
        let spec = fixture.db.spec
        #expect(try Rendering.command(try #require(spec.ready.command), spec: spec, stamp: nil) == "pg_isready -q -h /tmp -p 5432")
        #expect(throws: SandboxError.self) { try Rendering.command(try Template.parse("echo {password}").get(), spec: spec, stamp: nil) }
    }
}
