import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the instance's containers and, with --delete-data, its data. The only way data is deleted.",
            discussion: "Example:\n  sandbox destroy --instance shard-4 --delete-data"
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "Also delete the instance's data dirs, env file and state. Cannot be undone.")
        var deleteData = false

        func run() async throws {
            try await reporting {
                let instance = try options.instance(sandbox)
                try await instance.destroy(deleteData: deleteData)
                say(deleteData ? "destroyed instance \(instance.layout.instance) and deleted its data"
                    : "removed the containers of instance \(instance.layout.instance); data kept (add --delete-data to delete it)")
            }
        }
    }
}
