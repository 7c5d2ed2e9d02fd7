import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxObserve
@testable import SandboxPlan
@testable import SandboxOutput
@testable import SandboxApply
@testable import SandboxKit

/// The executor walks the plan's graph and decides nothing: these drive the walk itself (which actions start, which are
/// held up, which compensations run) without running anything, then the core's compensations and recovery on the
/// fake engine.
@Suite struct ExecutorGraphTests {
    /// A plan of `nothing` actions wired as given: (after, onFailureOf, bestEffort) per action.
    static func walk(_ shape: [(after: [Int], onFailureOf: [Int], bestEffort: Bool)]) -> GraphWalk {
        var b = PlanBuilder()
        for (index, s) in shape.enumerated() {
            b.add(.init(target: .instance("dev"), kind: .notice("#\(index + 1)"), cause: ""), after: s.after, onFailureOf: s.onFailureOf,
                  bestEffort: s.bestEffort)
        }
        return GraphWalk(b.actions)
    }

    /// Runs the walk to its end, failing the actions in `failing` (numbers from 1); returns the order actions started in
    /// (numbers) and every outcome.
    static func drive(_ walk: GraphWalk, failing: Set<Int>) -> (started: [Int], outcomes: [Executor.Outcome]) {
        var walk = walk
        var started: [Int] = []
        var running: [Int] = []
        repeat {
            running += walk.settle()
            guard !running.isEmpty else { break }
            let index = running.removeFirst()
            started.append(index + 1)
            walk.finished(index, failing.contains(index + 1) ? SandboxError(.stepFailed, "#\(index + 1) failed") : nil)
        } while true
        return (started, walk.outcomes.map { $0 ?? .blocked })
    }

    static let step = (after: [Int](), onFailureOf: [Int](), bestEffort: false)

    @Test func aChainRunsInOrderAndSiblingsRunSideBySide() {
        // #1; #2 and #3 after #1 (side by side); #4 after both.
        let walk = Self.walk([Self.step, ([1], [], false), ([1], [], false), ([2, 3], [], false)])
        var w = walk
        #expect(w.settle() == [0], "only #1 can start")
        w.finished(0, nil)
        #expect(w.settle() == [1, 2], "#2 and #3 start together once #1 succeeded")
        #expect(Self.drive(walk, failing: []).started == [1, 2, 3, 4])
    }

    @Test func aFailureHoldsUpWhatWaitsForItAndNothingElse() {
        // #1 -> #2 -> #3, and #4 on its own: #2 fails.
        let result = Self.drive(Self.walk([Self.step, ([1], [], false), ([2], [], false), Self.step]), failing: [2])
        #expect(result.started == [1, 4, 2])
        #expect(result.outcomes == [.succeeded, .failed(.stepFailed), .blocked, .succeeded])
    }

    @Test func aCompensationRunsOnlyWhenAnActionItNamesFailed() {
        // #1, #2 after #1, #3 compensates #1 or #2, #4 after #3 (the compensation's own chain).
        let shape = [Self.step, ([1], [], false), ([], [1, 2], false), ([3], [], false)]
        let clean = Self.drive(Self.walk(shape), failing: [])
        #expect(clean.started == [1, 2])
        #expect(clean.outcomes == [.succeeded, .succeeded, .notNeeded, .notNeeded])
        let failed = Self.drive(Self.walk(shape), failing: [2])
        #expect(failed.started == [1, 2, 3, 4])
        #expect(failed.outcomes == [.succeeded, .failed(.stepFailed), .succeeded, .succeeded])
        // Held up is not failed: a compensation for an action that never ran is not called.
        let held = Self.drive(Self.walk([Self.step, ([1], [], false), ([], [2], false)]), failing: [1])
        #expect(held.outcomes == [.failed(.stepFailed), .blocked, .notNeeded])
    }

    @Test func aBestEffortFailureHoldsNothingUp() {
        let result = Self.drive(Self.walk([(after: [], onFailureOf: [], bestEffort: true), ([1], [], false)]), failing: [1])
        #expect(result.outcomes == [.failed(.stepFailed), .succeeded])
    }

    @Test func whatComesAfterEverythingWaitsForNoCompensation() {
        var b = PlanBuilder()
        let work = b.add(.init(target: .instance("dev"), kind: .nothing, cause: ""))
        let undo = b.add(.init(target: .instance("dev"), kind: .nothing, cause: ""), onFailureOf: [work])
        b.add(.init(target: .instance("dev"), kind: .nothing, cause: ""), after: [undo])
        #expect(b.all == [work], "a compensation, and what follows it, never end in success when nothing failed")
        // Waiting for #3 that waits for #2 is waiting for #2: only what is not implied is kept.
        let last = b.add(.init(target: .instance("dev"), kind: .nothing, cause: ""), after: [work])
        #expect(b.add(.init(target: .instance("dev"), kind: .nothing, cause: ""), after: [work, last]) == 5)
        #expect(b.actions[4].after == [last])
    }

    @Test func theExecutorRunsCompensationsAndReportsTheFailure() async throws {
        let engine = FakeEngine()
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        let layout = InstanceLayout(checkout: fixture.checkout, instance: "dev")
        var b = PlanBuilder()
        let container = ObservedContainer(id: "nope", name: "nope", service: "pg", running: false, state: "exited", configHash: nil, imageHash: nil)
        let failing = b.add(.init(target: .service("pg"), kind: .startContainer(container), cause: "a container the engine does not have"))
        b.add(.init(target: .instance("dev"), kind: .writeState(InstanceState(sandbox: "shop")), cause: "compensation"), onFailureOf: [failing])
        let executor = Executor(docker: Docker(transport: engine), layout: layout, sandbox: nil,
                                images: ImageBuilder(docker: Docker(transport: engine), stateDirectory: fixture.checkout.stateDirectory),
                                reporter: SilentReporter())
        await #expect(throws: SandboxError.self) { try await executor.apply(b.plan()) }
        #expect(InstanceState.read(layout)?.sandbox == "shop", "the compensation ran after the failure")
    }
}
