import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put one instance back to its freshly set-up state. Other instances are never touched.",
            discussion: """
            The instance's data is replaced by a copy of the fresh, set-up data (made once per recipe version),
            then update steps run as in `sandbox up`. Save what you want to keep first: sandbox snapshot save NAME.

            Example:
              sandbox reset --instance marketing
            """
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "One JSON event per line.")
        var json = false

        func run() async throws {
            try await reporting(json: json) {
                let instance = try options.instance(sandbox)
                let progress = Progress(json: json)
                defer { progress.finish() }
                try await instance.reset(reporter: progress.reporter)
                progress.finish()
                let statuses = try await instance.status()
                if json {
                    JSONOutput.emit(StatusJSON(event: "result", instance: instance.layout.instance, sandbox: instance.sandbox.name, services: statuses))
                } else {
                    say("instance \(instance.layout.instance) is back to its fresh state")
                    for s in statuses { say(StatusTable.line(s)) }
                }
            }
        }
    }
}
