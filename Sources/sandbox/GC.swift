import ArgumentParser
import Foundation
import SandboxHost

extension Sandbox {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove golden copies and images of recipe versions no longer in Recipes/ (never an instance's data or a snapshot).",
            discussion: """
            Examples:
              sandbox gc --dry-run    # what would go, with sizes
              sandbox gc
            """
        )
        @OptionGroup var location: CheckoutOption
        @OptionGroup var format: JSONOption
        @Flag(help: "List what would be removed, with sizes; remove nothing.") var dryRun = false

        func run() async throws {
            try await Report.value(format, { try await location.core.gc(dryRun: dryRun) }) { result in
                if result.items.isEmpty { return say("nothing to collect: every golden copy and image is of a recipe version in use") }
                for item in result.items {
                    let verb = result.dryRun ? "would remove" : item.removed ? "removed" : "kept (in use now)"
                    say("\(verb) \(item.kind) \(item.name)  \(DiskUsage.format(item.bytes))  (\(item.reason))")
                }
                let total = result.items.filter { result.dryRun || $0.removed }.reduce(Int64(0)) { $0 + $1.bytes }
                say(result.dryRun ? "\(DiskUsage.format(total)) would be freed; run `sandbox gc` to free it" : "freed \(DiskUsage.format(total))")
            }
        }
    }
}
