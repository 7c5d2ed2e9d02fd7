import ArgumentParser
import Foundation
import SandboxObserve
import SandboxPlan

extension Sandbox {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what a command would do, and why; change nothing. Without a flag: what `sandbox up` would do.",
            discussion: """
            Examples:
              sandbox plan --instance shard-1
              sandbox plan --reset               # what `sandbox reset` would do
              sandbox plan --restore before-demo --json
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var format: JSONOption
        @OptionGroup var registry: RegistryOption

        @Flag(help: "Plan `sandbox reset`.") var reset = false
        @Option(help: ArgumentHelp("Plan `sandbox snapshot restore NAME`.", valueName: "snapshot")) var restore: String?
        @Flag(help: "Plan `sandbox down`.") var down = false
        @Flag(help: "Plan `sandbox destroy` (with --delete-data: and its data).") var destroy = false
        @Flag(help: "With --destroy: plan deleting the data too.") var deleteData = false
        @Option(help: ArgumentHelp("Plan `sandbox snapshot save NAME`.", valueName: "snapshot")) var snapshotSave: String?
        @Option(help: ArgumentHelp("Plan `sandbox snapshot delete NAME`.", valueName: "snapshot")) var snapshotDelete: String?

        func validate() throws {
            if [reset, restore != nil, down, destroy, snapshotSave != nil, snapshotDelete != nil].filter({ $0 }).count > 1 {
                throw ValidationError("plan one command at a time: --reset, --restore, --down, --destroy, --snapshot-save or --snapshot-delete")
            }
            if deleteData && !destroy { throw ValidationError("--delete-data goes with --destroy") }
        }

        var operation: InstanceOperation {
            if reset { return .reset }
            if let restore { return .restore(snapshot: restore) }
            if down { return .down }
            if destroy { return .destroy(deleteData: deleteData) }
            if let snapshotSave { return .saveSnapshot(snapshotSave) }
            if let snapshotDelete { return .deleteSnapshot(snapshotDelete) }
            return .up
        }

        func run() async throws {
            try await Report.value(format, { try await options.core.plan(try options.target(sandbox.name, registry: try registry.resolved()), operation) }) {
                say($0.text)
            }
        }
    }
}
