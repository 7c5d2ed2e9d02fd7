import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one instance's services, their state and connection URLs.",
            discussion: "Example:\n  sandbox status --instance shard-1 --json | jq '.services[].url'"
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "Print one JSON object.")
        var json = false

        @Flag(help: "Show passwords in URLs (they are masked as *** otherwise; `sandbox env` always shows them).")
        var showSecrets = false

        func run() async throws {
            try await reporting(json: json) {
                let instance = try options.instance(sandbox)
                let statuses = try await instance.status(secrets: showSecrets)
                if json {
                    JSONOutput.emit(StatusJSON(instance: instance.layout.instance, sandbox: instance.sandbox.name, services: statuses))
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
}

enum StatusTable {
    static func line(_ s: ServiceStatus) -> String {
        "  \(s.service.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.state.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.url ?? "-")"
    }
}
