import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxObserve

/// What a command will do to an instance: a graph of actions, each with the reason for it and the actions it waits for.
/// `sandbox plan` prints it; the executor carries out exactly these actions and decides nothing (compose's `plan.go`).
package struct Plan: Sendable, Equatable, CustomStringConvertible {
    /// In the order they are printed; an action's number (`#3`) is its position from 1, and it waits only for lower numbers.
    package var actions: [Action]
    /// Reasons the command must not proceed at all; each names the fix.
    package var problems: [Problem]
    /// The host port of each service, as planned: what steps that name `{db.port}` render with.
    package var ports: [String: Int]

    package init(actions: [Action], problems: [Problem] = [], ports: [String: Int] = [:]) {
        self.actions = actions
        self.problems = problems
        self.ports = ports
    }

    package struct Problem: Sendable, Equatable, CustomStringConvertible {
        package var code: SandboxError.Code
        package var message: String
        package var fix: String
        package var description: String { "\(message); \(fix)" }

        package init(_ code: SandboxError.Code, _ message: String, fix: String) {
            self.code = code
            self.message = message
            self.fix = fix
        }
    }

    package struct Action: Sendable, Equatable, CustomStringConvertible {
        package enum Target: Sendable, Equatable {
            case image(String)
            case service(String)
            /// The whole instance: data switches and deletions that must happen for every service at once.
            case instance(String)
        }

        package var target: Target
        package var kind: Kind
        package var cause: String
        /// Its number in the plan, from 1 (set when it is added to one).
        package var id = 0
        /// The actions (by number) that must have succeeded before this one starts.
        package var after: [Int] = []
        /// A compensation: it runs only when one of these actions failed (once all of them ended), and never otherwise.
        package var onFailureOf: [Int] = []
        /// Its failure is reported, but fails nothing and holds up no other action.
        package var bestEffort = false

        package init(target: Target, kind: Kind, cause: String) {
            self.target = target
            self.kind = kind
            self.cause = cause
        }

        package var isCompensation: Bool { !onFailureOf.isEmpty }

        package var targetText: String {
            switch target {
            case let .image(tag): return "image:\(tag)"
            case let .service(name): return "service:\(name)"
            case let .instance(name): return "instance:\(name)"
            }
        }

        package var description: String { "\(targetText), \(name), \(cause)" }

        /// True for the steps that change something.
        package var changes: Bool {
            switch kind {
            case .nothing, .notice: return false
            default: return true
            }
        }
    }

    /// The actions that run when nothing fails: all but compensations and what waits for one.
    package var onSuccessPath: [Action] {
        var compensating: Set<Int> = []
        for action in actions where action.isCompensation || action.after.contains(where: compensating.contains) { compensating.insert(action.id) }
        return actions.filter { !compensating.contains($0.id) }
    }

    /// Nothing to do: no problem, and no action that changes anything.
    package var isNoOp: Bool { problems.isEmpty && !actions.contains { $0.changes } }

    /// The text `sandbox plan` prints (`PlanResult.text`): golden text in PlannerTests.
    package var description: String { PlanResult(self).text }

    /// The problems as one error, each with its fix.
    package var refusal: SandboxError? {
        guard let first = problems.first else { return nil }
        if problems.count == 1 { return SandboxError(first.code, first.message, fix: first.fix) }
        return SandboxError(first.code, "cannot proceed:\n" + problems.map { "  - \($0.message)" }.joined(separator: "\n"),
                            fix: problems.map(\.fix).joined(separator: "; "))
    }
}

/// Builds a plan's graph: each action is added with the numbers of those it waits for, and gets its own number.
package struct PlanBuilder: Sendable {
    package private(set) var actions: [Plan.Action] = []

    package init() {}

    /// Adds `action` after `after` (numbers already added); returns its number.
    @discardableResult
    package mutating func add(_ action: Plan.Action, after: [Int] = [], onFailureOf: [Int] = [], bestEffort: Bool = false) -> Int {
        var action = action
        // Only what is not already implied: waiting for #5 that waits for #3 is waiting for #3.
        let implied = Set(after.flatMap(ancestors))
        action.after = Array(Set(after).subtracting(implied)).sorted()
        action.onFailureOf = Array(Set(onFailureOf)).sorted()
        action.bestEffort = bestEffort
        action.id = actions.count + 1
        actions.append(action)
        return actions.count
    }

    /// Adds `chain` one action after another, the first after `after`; returns what comes next waits for:
    /// the chain's last number, or `after` itself when the chain is empty. A compensation in the chain names the
    /// actions it compensates by their place in the chain (from 0); it waits for nothing else, and the next action
    /// follows the one before it.
    @discardableResult
    package mutating func chain(_ chain: [Plan.Action], after: [Int]) -> [Int] {
        var last = after
        var numbers: [Int] = []
        for action in chain {
            if action.isCompensation {
                numbers.append(add(action, onFailureOf: action.onFailureOf.map { numbers[$0] }))
            } else {
                last = [add(action, after: last)]
                numbers.append(last[0])
            }
        }
        return last
    }

    /// Every action `number` waits for, directly or through others.
    func ancestors(_ number: Int) -> Set<Int> {
        var found: Set<Int> = []
        var next = actions[number - 1].after
        while let n = next.popLast() {
            if found.insert(n).inserted { next += actions[n - 1].after }
        }
        return found
    }

    /// Every action added so far but compensations and what follows them: what an action that must come after
    /// everything waits for (a compensation that is not needed never ends in success).
    package var all: [Int] {
        var compensating: Set<Int> = []
        for (index, action) in actions.enumerated() where action.isCompensation || action.after.contains(where: compensating.contains) {
            compensating.insert(index + 1)
        }
        return actions.indices.map { $0 + 1 }.filter { !compensating.contains($0) }
    }

    package func plan(problems: [Plan.Problem] = [], ports: [String: Int] = [:]) -> Plan {
        Plan(actions: actions, problems: problems, ports: ports)
    }
}
