import Foundation

/// `plan`: the actions an operation would carry out, with their causes, or the problems that stop it; what both
/// front doors hand out for a plan (the `--json` object, the API body) and, as `text`, what `sandbox plan` prints.
public struct PlanResult: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable { public var target: String; public var action: String; public var cause: String }
    public struct Problem: Codable, Sendable, Equatable { public var code: String; public var message: String; public var fix: String }
    public var event = "plan"
    public var problems: [Problem]
    public var actions: [Step]
    public var noop: Bool

    public init(_ plan: Plan) {
        problems = plan.problems.map { Problem(code: $0.code.rawValue, message: $0.message, fix: $0.fix) }
        actions = plan.actions.map { Step(target: $0.targetText, action: $0.name, cause: $0.cause) }
        noop = plan.isNoOp
    }

    /// One numbered line per action, like compose's plan: `#1 service:db, CreateContainer port=20001, container missing`.
    public var text: String {
        (problems.map { "problem: \($0.message); \($0.fix)" }
            + actions.enumerated().map { "#\($0.offset + 1) \($0.element.target), \($0.element.action), \($0.element.cause)" })
            .joined(separator: "\n")
    }
}
