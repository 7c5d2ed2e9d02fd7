import ArgumentParser
import Foundation
import SandboxKit

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
            try await reporting(json: format.json) {
                let workspace = try options.workspace()
                let name = options.instanceName
                let plan = try await workspace.remove(instance: name, sandbox: sandbox.name ?? options.sandbox, .destroy(deleteData: deleteData),
                                                      reporter: format.json ? JSONReporter() : SilentReporter(), wait: lock.wait)
                let result = RemovalResult(instance: name, removed: plan.removedServices, deletedData: deleteData)
                if format.json {
                    JSONOutput.emit(result)
                } else {
                    say(deleteData ? "destroyed instance \(name) and deleted its data (snapshots kept)"
                        : "removed the containers of instance \(name); data kept (add --delete-data to delete it)")
                }
                if !plan.isNoOp { await Notifications(workspace.checkout).send(.destroy, result, instance: name) }
            }
        }
    }
}

struct RemovalResult: Encodable {
    var event = "result"
    var instance: String
    var removed: [String]
    var deletedData: Bool?
}

extension SandboxKit.Plan {
    /// The services whose containers the plan removes.
    var removedServices: [String] {
        actions.compactMap { if case let .removeContainer(c, _) = $0.kind { return c.service } else { return nil } }
    }
}
