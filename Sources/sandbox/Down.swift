import ArgumentParser
import Foundation
import SandboxOutput

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
            try await Report.value(format, {
                try await options.core.down(try options.target(sandbox.name), wait: lock.wait, reporter: format.json ? JSONReporter() : SilentReporter())
            }) { result in
                let workspace = try options.workspace()
                let folder = workspace.checkout.display(try workspace.layout(result.instance).root.path)
                say(result.removed.isEmpty ? "nothing running in instance \(result.instance)"
                    : "stopped \(result.removed.joined(separator: ", ")); data kept in \(folder)/")
            }
        }
    }
}
