import Foundation

/// `plan`: the actions an operation would carry out, with their causes, or the problems that stop it; what both
/// front doors hand out for a plan (the `--json` object, the API body) and, as `text`, what `sandbox plan` prints.
package struct PlanResult: Codable, Sendable, Equatable {
    package struct Step: Codable, Sendable, Equatable { package var target: String; package var action: String; package var cause: String }
    package struct Problem: Codable, Sendable, Equatable { package var code: String; package var message: String; package var fix: String }
    package var event = "plan"
    package var problems: [Problem]
    package var actions: [Step]
    package var noop: Bool

    package init(_ plan: Plan) {
        problems = plan.problems.map { Problem(code: $0.code.rawValue, message: $0.message, fix: $0.fix) }
        actions = plan.actions.map { Step(target: $0.targetText, action: $0.name, cause: $0.cause) }
        noop = plan.isNoOp
    }

    /// One numbered line per action, like compose's plan: `#1 service:db, CreateContainer port=20001, container missing`.
    package var text: String {
        (problems.map { "problem: \($0.message); \($0.fix)" }
            + actions.enumerated().map { "#\($0.offset + 1) \($0.element.target), \($0.element.action), \($0.element.cause)" })
            .joined(separator: "\n")
    }
}
