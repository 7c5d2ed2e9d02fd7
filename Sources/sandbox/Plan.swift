import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what `sandbox up` would do, and why; change nothing.",
            discussion: "Example:\n  sandbox plan --instance shard-1"
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "Print the plan as one JSON object.")
        var json = false

        func run() async throws {
            try await reporting(json: json) {
                let plan = try await options.instance(sandbox).plan()
                if json {
                    JSONOutput.emit(PlanJSON(plan))
                } else {
                    say(plan.description)
                }
            }
        }
    }
}

struct PlanJSON: Encodable {
    struct Step: Encodable { var target: String; var action: String; var cause: String }
    var event = "plan"
    struct Problem: Encodable { var code: String; var message: String; var fix: String }
    var problems: [Problem]
    var actions: [Step]
    var noop: Bool

    init(_ plan: SandboxKit.Plan) {
        problems = plan.problems.map { Problem(code: $0.code.rawValue, message: $0.message, fix: $0.fix) }
        actions = plan.actions.map { Step(target: $0.targetText, action: $0.name, cause: $0.cause) }
        noop = plan.isNoOp
    }
}
