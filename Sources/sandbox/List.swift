import ArgumentParser
import Foundation
import SandboxKit

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
            try await reporting(json: output.json) {
                let workspace = try location.workspace()
                var all: [StatusJSON] = []
                for name in workspace.instanceNames {
                    let layout = try workspace.layout(name)
                    let sandboxName = InstanceState.read(layout)?.sandbox
                    guard let instance = try? workspace.instance(sandbox: sandboxName, instance: name) else { continue }
                    all.append(StatusJSON(instance: name, sandbox: instance.sandbox.name, services: try await instance.status(secrets: output.showSecrets),
                                          commit: InstanceState.read(layout)?.commit))
                }
                if output.json {
                    JSONOutput.emit(ListJSON(instances: all))
                } else if all.isEmpty {
                    say("no instances yet; `sandbox up` makes one")
                } else {
                    for i in all {
                        say("\(i.instance) (\(i.sandbox))")
                        for s in i.services { say(StatusTable.line(s)) }
                    }
                }
            }
        }
    }
}

struct ListJSON: Encodable {
    var event = "list"
    var instances: [StatusJSON]
}
