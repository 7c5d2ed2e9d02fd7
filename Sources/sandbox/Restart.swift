import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop services cleanly and start them again: an edit in a live folder, a changed environment.",
            discussion: """
            Examples:
              sandbox restart web              # the application, after an edit (with `sandbox up --live`)
              sandbox restart                  # every service of the instance
            """
        )

        @Argument(help: ArgumentHelp("The services to restart (default: all).", valueName: "service")) var services: [String] = []
        @OptionGroup var options: InstanceOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var lock: WaitOption

        func run() async throws {
            try await Report.run(output, headline: { _ in "restarted \(services.isEmpty ? "every service" : services.joined(separator: ", "))" }) {
                try await options.core.restart(try options.target(), services: services, secrets: output.showSecrets, wait: lock.wait, reporter: $0)
            }
        }
    }
}
