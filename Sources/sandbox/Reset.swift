import ArgumentParser
import Foundation

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
            try await Report.run(output, headline: { "instance \($0.instance) is back to its fresh state" }) {
                try await options.core.reset(try options.target(sandbox.name), secrets: output.showSecrets, wait: lock.wait, reporter: $0)
            }
        }
    }
}
