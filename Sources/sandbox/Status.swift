import ArgumentParser
import Foundation
import SandboxOperations

extension Sandbox {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one instance's services, their state and connection URLs.",
            discussion: "Example:\n  sandbox status --instance shard-1 --json | jq '.services[].url'"
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await Report.value(output.format, { try await options.core.status(try options.target(sandbox.name), secrets: output.showSecrets) }) { status in
                say("instance \(status.instance) of sandbox \(status.sandbox)")
                for s in status.services { say(StatusTable.line(s)) }
            }
        }
    }
}

enum StatusTable {
    static func line(_ s: ServiceStatus) -> String {
        "  \(s.service.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.state.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.url ?? "-")"
    }
}
