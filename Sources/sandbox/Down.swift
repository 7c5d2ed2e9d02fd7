import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop and remove the instance's containers. Data stays.",
            discussion: "Example:\n  sandbox down && sandbox up   # same data, same ports"
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "Print one JSON result object.")
        var json = false

        func run() async throws {
            try await reporting(json: json) {
                let instance = try options.instance(sandbox)
                let removed = try await instance.down()
                if json {
                    JSONOutput.emit(["event": "result", "instance": instance.layout.instance, "removed": removed] as [String: Any])
                } else {
                    say(removed.isEmpty ? "nothing running in instance \(instance.layout.instance)"
                        : "stopped \(removed.joined(separator: ", ")); data kept in \(instance.layout.checkout.display(instance.layout.root.path))/")
                }
            }
        }
    }
}
