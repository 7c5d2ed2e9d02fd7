import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put one instance back to its freshly set-up state. Other instances are never touched.",
            discussion: """
            The instance's data is replaced by a copy of the fresh, set-up data (made once per recipe version),
            for every service at once, then update steps run as in `sandbox up`. Save what you want to keep first:
            sandbox snapshot save NAME. `sandbox plan --reset` shows what it will do.

            Example:
              sandbox reset --instance marketing
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var output: OutputOptions

        @OptionGroup var lock: WaitOption

        func run() async throws {
            try await reporting(json: output.json) {
                let workspace = try options.workspace()
                let instance = try options.instance(sandbox.name, in: workspace)
                try await withProgress(json: output.json) { try await instance.reset(reporter: $0, wait: lock.wait) }
                let result = try await Report.result(instance, changed: true, output: output,
                                                     headline: "instance \(instance.layout.instance) is back to its fresh state")
                await Notifications(workspace.checkout).send(.reset, result, instance: result.instance)
            }
        }
    }
}
