import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput

/// Carries out a plan and makes no decisions of its own: it walks the plan's graph, starting each action once the
/// actions it waits for have succeeded, runs a compensation only when one of the actions it names failed, and performs
/// every action with what the action carries (`Executor+Actions.swift`, one method per kind).
/// Each action either completes or leaves nothing a later command would mistake for done.
package struct Executor: Sendable {
    package var docker: Docker
    package var layout: InstanceLayout
    package var sandbox: ResolvedSandbox?
    package var images: any ImageProviding
    package var reporter: any ProgressReporter
    /// The uid and gid that own data dirs (the golden copy's containers run as them).
    package var uid: UInt32
    package var gid: UInt32

    package init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox?, images: any ImageProviding,
                reporter: any ProgressReporter, uid: UInt32 = getuid(), gid: UInt32 = getgid()) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.images = images
        self.reporter = reporter
        self.uid = uid
        self.gid = gid
    }

    /// How an action ended.
    package enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(SandboxError.Code)
        /// Not run: an action it waits for failed (or was itself held up by a failure).
        case blocked
        /// Not run, and not wanted: a compensation whose actions all succeeded, or an action after one.
        case notNeeded
    }

    /// Performs the plan: every action whose predecessors succeeded, side by side where the graph allows. When actions
    /// fail, every failure is reported (the same cause once), after the compensations they call for have run.
    @discardableResult
    package func apply(_ plan: Plan) async throws(SandboxError) -> [Outcome] {
        if let refusal = plan.refusal { throw refusal }
        reporter.report(.planned(plan))
        var walk = GraphWalk(plan.actions)
        var failures: [SandboxError] = []
        var compensationFailures: [SandboxError] = []
        await withTaskGroup(of: (Int, SandboxError?).self) { group in
            var running = 0
            while true {
                for index in walk.settle() {
                    running += 1
                    let action = plan.actions[index]
                    group.addTask { (index, await self.timed(action, plan: plan)) }
                }
                guard running > 0, let (index, error) = await group.next() else { break }
                running -= 1
                walk.finished(index, error)
                guard let error, !plan.actions[index].bestEffort else { continue }
                if plan.actions[index].isCompensation { compensationFailures.append(error) } else { failures.append(error) }
            }
        }
        if var error = Self.merged(failures) {
            // What could not be undone is said with what went wrong, never instead of it.
            if let undo = Self.merged(compensationFailures) { error.message += "; undoing it failed too: \(undo.message)" }
            throw error
        }
        if let undo = Self.merged(compensationFailures) { throw undo }
        return walk.outcomes.map { $0 ?? .blocked }
    }

    /// Several failures as one error; the same cause (an engine gone away) reported by every service is one failure.
    static func merged(_ failures: [SandboxError]) -> SandboxError? {
        var distinct: [SandboxError] = []
        for f in failures where !distinct.contains(where: { $0.message == f.message }) { distinct.append(f) }
        guard distinct.count > 1 else { return distinct.first }
        var error = SandboxError(distinct[0].code, "\(distinct.count) services failed:\n" + distinct.map { "  - \($0.message)" }.joined(separator: "\n"),
                                 fix: distinct.compactMap(\.fix).first, detail: distinct.compactMap(\.detail).joined(separator: "\n"))
        error.replan = distinct.allSatisfy(\.replan)
        return error
    }

    /// Runs one action, reporting its start and its end; returns its error, if it failed.
    func timed(_ action: Plan.Action, plan: Plan) async -> SandboxError? {
        reporter.report(.started(action))
        let clock = ContinuousClock()
        let began = clock.now
        do {
            try await perform(action, plan: plan)
        } catch {
            reporter.report(.failed(action, error))
            return error
        }
        let elapsed = clock.now - began
        reporter.report(.finished(action, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        return nil
    }
}

/// The state of a walk through a plan's graph: which actions ended how, and which may start next. Pure: the executor
/// feeds it each end and runs what it hands back (ExecutorTests drive it without running anything).
package struct GraphWalk: Sendable {
    let actions: [Plan.Action]
    package private(set) var outcomes: [Executor.Outcome?]
    private var started: Set<Int> = []

    package init(_ actions: [Plan.Action]) {
        self.actions = actions
        outcomes = Array(repeating: nil, count: actions.count)
    }

    /// Records how action `index` (from 0) ended.
    package mutating func finished(_ index: Int, _ error: SandboxError?) {
        outcomes[index] = error.map { .failed($0.code) } ?? .succeeded
    }

    /// Decides every action that can be decided now: those not to run get their outcome; returns those to start.
    package mutating func settle() -> [Int] {
        var start: [Int] = []
        var changed = true
        while changed {
            changed = false
            for index in actions.indices where outcomes[index] == nil && !started.contains(index) {
                let action = actions[index]
                let waits = action.after.map { outcomes[$0 - 1] }
                let watched = action.onFailureOf.map { outcomes[$0 - 1] }
                guard !waits.contains(nil), !watched.contains(nil) else { continue }
                let waitedOK = zip(action.after, waits).allSatisfy { number, outcome in
                    outcome == .succeeded || (actions[number - 1].bestEffort && outcome != .blocked && outcome != .notNeeded)
                }
                let heldUp = waits.contains { $0 == .blocked } || zip(action.after, waits).contains { number, outcome in
                    if case .failed = outcome { return !actions[number - 1].bestEffort }
                    return false
                }
                let called = watched.contains { outcome in
                    if case .failed = outcome { return true } else { return false }
                }
                if action.isCompensation && !called {
                    outcomes[index] = .notNeeded
                } else if waitedOK {
                    started.insert(index)
                    start.append(index)
                    continue
                } else {
                    outcomes[index] = heldUp ? .blocked : .notNeeded
                }
                changed = true
            }
        }
        return start
    }
}
