import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop and remove the instance's containers. Data stays.",
            discussion: """
            Works from the instance's container labels, whatever state the recipes are in.

            Example:
              sandbox down && sandbox up   # same data, same ports
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var format: JSONOption
        @OptionGroup var lock: WaitOption

        func run() async throws {
            try await reporting(json: format.json) {
                let workspace = try options.workspace()
                let name = options.instanceName
                let plan = try await workspace.remove(instance: name, sandbox: sandbox.name ?? options.sandbox, .down,
                                                      reporter: format.json ? JSONReporter() : SilentReporter(), wait: lock.wait)
                let removed = plan.removedServices
                let result = RemovalResult(instance: name, removed: removed)
                if format.json {
                    JSONOutput.emit(result)
                } else {
                    say(removed.isEmpty ? "nothing running in instance \(name)"
                        : "stopped \(removed.joined(separator: ", ")); data kept in \(workspace.checkout.display(try workspace.layout(name).root.path))/")
                }
                if !plan.isNoOp { await Notifications(workspace.checkout).send(.down, result, instance: name) }
            }
        }
    }
}
