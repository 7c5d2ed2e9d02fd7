import ArgumentParser
import Foundation
import SandboxHost

extension Sandbox {
    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save, restore and list named copies of an instance's data.",
            discussion: """
            Examples:
              sandbox snapshot save before-demo
              sandbox snapshot restore before-demo
              sandbox snapshot ls
              sandbox snapshot delete before-demo
            """,
            subcommands: [Save.self, Restore.self, List.self, Delete.self]
        )

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Copy the instance's data dirs (services stop briefly for a consistent copy).",
                                                            discussion: "Example:\n  sandbox snapshot save before-migration")
            @Argument(help: "The snapshot's name.") var name: String
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption
            @OptionGroup var lock: WaitOption

            func run() async throws {
                try await Report.value(format, progress: {
                    try await options.core.saveSnapshot(try options.target(), name: name, wait: lock.wait, reporter: $0)
                }) {
                    say("saved snapshot \($0.snapshot) of instance \($0.instance) (\($0.services.joined(separator: ", ")))")
                }
            }
        }

        struct Restore: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Replace the instance's data with a snapshot's (refused if engines or versions differ).",
                                                            discussion: "Example:\n  sandbox snapshot restore before-migration")
            @Argument(help: "The snapshot's name.") var name: String
            @OptionGroup var options: InstanceOptions
            @OptionGroup var output: OutputOptions
            @OptionGroup var lock: WaitOption

            func run() async throws {
                try await Report.run(output, headline: { "restored snapshot \(name) into instance \($0.instance)" }) {
                    try await options.core.restore(try options.target(), snapshot: name, secrets: output.showSecrets, wait: lock.wait, reporter: $0)
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a snapshot; frees what it alone holds (blocks shared by reflink stay with the others).",
                discussion: "Example:\n  sandbox snapshot delete before-migration", aliases: ["rm"])
            @Argument(help: "The snapshot's name.") var name: String
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption
            @OptionGroup var lock: WaitOption

            func run() async throws {
                try await Report.value(format, progress: {
                    try await options.core.deleteSnapshot(try options.target(), name: name, wait: lock.wait, reporter: $0)
                }) {
                    say("deleted snapshot \(name) of instance \($0.instance), freeing \(DiskUsage.format($0.freedBytes))")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the instance's snapshots.",
                                                            discussion: "Example:\n  sandbox snapshot ls --json")
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await Report.value(format, { try options.core.snapshots(try options.target()) }) { list in
                    let snapshots = list.snapshots
                    if snapshots.isEmpty {
                        say("no snapshots; save one with: sandbox snapshot save NAME")
                    } else {
                        let format = ISO8601DateFormatter()
                        for s in snapshots {
                            say("\(s.name)  \(format.string(from: s.created))  "
                                + s.services.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.engine) \($0.value.version)" }.joined(separator: ", ")
                                + "  \(DiskUsage.format(s.exclusiveBytes)) alone (\(DiskUsage.format(s.bytes)) in all)")
                        }
                        say("'alone' is what deleting it frees; the rest it shares with the instance's data and other copies (reflinks)")
                    }
                }
            }
        }
    }
}
