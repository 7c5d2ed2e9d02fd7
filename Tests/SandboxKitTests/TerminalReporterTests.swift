import Foundation
import Synchronization
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxPlan
@testable import SandboxOutput

/// The live terminal lines, through their seams: what is written, at a given width, at given times.
@Suite struct TerminalReporterTests {
    final class Screen: Sendable {
        let writes = Mutex<[String]>([])
        let time = Mutex<Duration>(.zero)
        func write(_ text: String) { writes.withLock { $0.append(text) } }
        func advance(_ d: Duration) { time.withLock { $0 += d } }
        var last: String { writes.withLock { $0.last ?? "" } }
    }

    /// A line as drawn: its text, then the time right-aligned at the width.
    static func row(_ text: String, _ time: String, width: Int) -> String {
        text.padding(toLength: width - time.count - 2, withPad: " ", startingAt: 0) + " " + time
    }
    static func action(_ target: Plan.Action.Target, _ kind: Plan.Action.Kind) -> Plan.Action { .init(target: target, kind: kind, cause: "c") }

    @Test func eachTargetGetsOneLineThatShowsItsStepAndCollapsesToAResult() {
        let screen = Screen()
        let reporter = TerminalReporter(width: 60, write: screen.write, now: { screen.time.withLock { $0 } })
        let wait = Self.action(.service("pg"), .waitReady(PlannerFixtureStub.service))
        let update = Self.action(.service("pg"), .notice("n"))
        reporter.report(.planned(Plan(actions: [wait, update, Self.action(.service("pg"), .nothing)])))
        #expect(screen.last == "\u{1B}[2K" + Self.row("   service:pg  waiting", "", width: 60) + "\n")
        reporter.report(.started(wait))
        screen.advance(.milliseconds(1500))
        reporter.report(.output(wait, "  accepting connections  "))
        #expect(screen.last == "\u{1B}[1A\u{1B}[2K" + Self.row(" ⠋ service:pg  WaitReady  accepting connections", "1.5s", width: 60) + "\n")
        reporter.tick()
        #expect(screen.last == "\u{1B}[1A\u{1B}[2K" + Self.row(" ⠙ service:pg  WaitReady  accepting connections", "1.5s", width: 60) + "\n")
        screen.advance(.milliseconds(500))
        reporter.report(.finished(wait, seconds: 2))
        #expect(screen.last == "\u{1B}[1A\u{1B}[2K" + Self.row(" ✔ service:pg  Running", "2.0s", width: 60) + "\n")
    }

    @Test func aFailureIsMarkedWithItsMessageAndMessagesPrintAboveTheLines() {
        let screen = Screen()
        let reporter = TerminalReporter(width: 50, write: screen.write, now: { screen.time.withLock { $0 } })
        let wait = Self.action(.service("db"), .waitReady(PlannerFixtureStub.service))
        reporter.report(.planned(Plan(actions: [wait])))
        reporter.report(.started(wait))
        reporter.report(.message("waiting for another command"))
        #expect(screen.last == "\u{1B}[1A\u{1B}[2Kwaiting for another command\n\u{1B}[2K" + Self.row(" ⠋ service:db  WaitReady", "0.0s", width: 50) + "\n")
        reporter.report(.failed(wait, SandboxError(.notReady, "service db stopped while starting, because it was given a very long reason")))
        // Cut to the width, with an ellipsis, the time kept at the end.
        #expect(screen.last == "\u{1B}[1A\u{1B}[2K ✘ service:db  Failed: WaitReady  service d… 0.0s\n")
        reporter.close()
        let count = screen.writes.withLock { $0.count }
        reporter.report(.message("after close"))
        #expect(screen.writes.withLock { $0.count } == count, "nothing is drawn after close")
    }

    @Test func resultWordsForEachKindOfLastStep() {
        #expect(TerminalReporter.result("Build") == "Built")
        #expect(TerminalReporter.result("EnsureBaseImage") == "Ready")
        #expect(TerminalReporter.result("RemoveContainer force") == "Removed")
        #expect(TerminalReporter.result("WaitReady") == "Running")
    }
}

/// A resolved service for tests that only need one to carry in an action.
enum PlannerFixtureStub {
    static let service: ResolvedService = {
        // The fixture's recipes are resolved once; its first service serves as any service.
        let fixture = try! PlannerFixture()
        return fixture.db
    }()
}
