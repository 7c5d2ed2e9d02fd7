import ArgumentParser
import Foundation
import SandboxOutput

extension Sandbox {
    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the instance's containers and, with --delete-data, its data. The only way data is deleted.",
            discussion: """
            Works from the instance's own records, whatever state the recipes are in. Snapshots are kept.

            Example:
              sandbox destroy --instance shard-4 --delete-data
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var format: JSONOption
        @OptionGroup var lock: WaitOption

        @Flag(help: "Also delete the instance's data dirs, env file, state and secrets. Cannot be undone.")
        var deleteData = false

        func run() async throws {
            try await Report.value(format, {
                try await options.core.destroy(try options.target(sandbox.name), deleteData: deleteData, wait: lock.wait,
                                               reporter: format.json ? JSONReporter() : SilentReporter())
            }) { result in
                say(deleteData ? "destroyed instance \(result.instance) and deleted its data (snapshots kept)"
                    : "removed the containers of instance \(result.instance); data kept (add --delete-data to delete it)")
            }
        }
    }
}
