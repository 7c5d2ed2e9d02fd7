import ArgumentParser
import Foundation

extension Sandbox {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List every instance of this checkout with its services, states and URLs.",
            discussion: "Example:\n  sandbox ls --json"
        )

        @OptionGroup var location: CheckoutOption
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await Report.value(output.format, { try await location.core.list(secrets: output.showSecrets) }) { list in
                if list.instances.isEmpty { return say("no instances yet; `sandbox up` makes one") }
                for i in list.instances {
                    say("\(i.instance) (\(i.sandbox))")
                    for s in i.services { say(StatusTable.line(s)) }
                }
            }
        }
    }
}
