import Foundation

/// `plan`: the actions an operation would carry out, with their causes and what each waits for, or the problems that
/// stop it; what both front doors hand out for a plan (the `--json` object, the API body) and, as `text`, what
/// `sandbox plan` prints.
package struct PlanResult: Codable, Sendable, Equatable {
    package struct Step: Codable, Sendable, Equatable {
        /// Its number, from 1: what other steps' `after` and `onFailureOf` name.
        package var id: Int
        package var target: String
        package var action: String
        /// Everything it is carried out with, in one line (docs/json.md); the `start` and `done` events carry the same.
        package var arguments: String
        package var cause: String
        package var after: [Int]
        /// Set for a compensation: it runs only if one of these fails.
        package var onFailureOf: [Int]?
        package var bestEffort: Bool?
    }

    package struct Problem: Codable, Sendable, Equatable { package var code: String; package var message: String; package var fix: String }
    package var event = "plan"
    package var problems: [Problem]
    package var actions: [Step]
    package var noop: Bool

    package init(_ plan: Plan) {
        problems = plan.problems.map { Problem(code: $0.code.rawValue, message: $0.message, fix: $0.fix) }
        actions = plan.actions.enumerated().map { index, action in
            Step(id: index + 1, target: action.targetText, action: action.name, arguments: action.arguments, cause: action.cause,
                 after: action.after, onFailureOf: action.isCompensation ? action.onFailureOf : nil,
                 bestEffort: action.bestEffort ? true : nil)
        }
        noop = plan.isNoOp
    }

    /// One numbered line per action, like compose's plan, with what it waits for:
    /// `#6 service:db, CreateContainer port=20001, container missing [after #5]`.
    package var text: String {
        (problems.map { "problem: \($0.message); \($0.fix)" } + actions.map { step in
            var links: [String] = []
            if !step.after.isEmpty { links.append("after " + step.after.map { "#\($0)" }.joined(separator: " ")) }
            if let failed = step.onFailureOf { links.append("if " + failed.map { "#\($0)" }.joined(separator: " or ") + " fails") }
            if step.bestEffort == true { links.append("best effort") }
            let shown = links.isEmpty ? "" : " [" + links.joined(separator: ", ") + "]"
            return "#\(step.id) \(step.target), \(step.action), \(step.cause)\(shown)"
        }).joined(separator: "\n")
    }
}
