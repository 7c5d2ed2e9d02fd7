import ArgumentParser
import Foundation
import SandboxKit

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
            try await reporting(json: output.json) {
                let instance = try options.instance(sandbox.name)
                let statuses = try await instance.status(secrets: output.showSecrets)
                if output.json {
                    JSONOutput.emit(StatusJSON(instance: instance.layout.instance, sandbox: instance.sandbox.name, services: statuses,
                                               commit: InstanceState.read(instance.layout)?.commit))
                } else {
                    say("instance \(instance.layout.instance) of sandbox \(instance.sandbox.name)")
                    for s in statuses { say(StatusTable.line(s)) }
                }
            }
        }
    }
}

struct StatusJSON: Encodable {
    var event = "status"
    var instance: String
    var sandbox: String
    var services: [ServiceStatus]
    /// The checkout's commit at the instance's last successful `up` (absent outside git).
    var commit: String?
}

enum StatusTable {
    static func line(_ s: ServiceStatus) -> String {
        "  \(s.service.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.state.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.url ?? "-")"
    }
}
