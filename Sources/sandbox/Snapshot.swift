import ArgumentParser
import Foundation
import SandboxKit

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
                try await reporting(json: format.json) {
                    let instance = try options.instance()
                    let info = try await withProgress(json: format.json) { try await instance.saveSnapshot(name, reporter: $0, wait: lock.wait) }
                    if format.json {
                        JSONOutput.emit(SnapshotSaved(instance: instance.layout.instance, sandbox: instance.sandbox.name, snapshot: info.name,
                                                      services: info.services.keys.sorted()))
                    } else {
                        say("saved snapshot \(info.name) of instance \(instance.layout.instance) (\(info.services.keys.sorted().joined(separator: ", ")))")
                    }
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
                try await reporting(json: output.json) {
                    let workspace = try options.workspace()
                    let instance = try options.instance(in: workspace)
                    try await withProgress(json: output.json) { try await instance.restoreSnapshot(name, reporter: $0, wait: lock.wait) }
                    let result = try await Report.result(instance, changed: true, output: output,
                                                         headline: "restored snapshot \(name) into instance \(instance.layout.instance)")
                    await Notifications(workspace.checkout).send(.snapshotRestored, result, instance: result.instance)
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
                try await reporting(json: format.json) {
                    let instance = try options.instance()
                    let usage = try await withProgress(json: format.json) { try await instance.deleteSnapshot(name, reporter: $0, wait: lock.wait) }
                    if format.json {
                        JSONOutput.emit(SnapshotDeleted(instance: instance.layout.instance, snapshot: name, freedBytes: usage.exclusiveBytes))
                    } else {
                        say("deleted snapshot \(name) of instance \(instance.layout.instance), freeing \(DiskUsage.format(usage.exclusiveBytes))")
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the instance's snapshots.",
                                                            discussion: "Example:\n  sandbox snapshot ls --json")
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await reporting(json: format.json) {
                    let instance = try options.instance()
                    let snapshots = instance.snapshots().map { SnapshotJSON(info: $0, usage: instance.snapshotUsage($0.name)) }
                    if format.json {
                        JSONOutput.emit(SnapshotsJSON(snapshots: snapshots))
                    } else if snapshots.isEmpty {
                        say("no snapshots; save one with: sandbox snapshot save NAME")
                    } else {
                        let format = ISO8601DateFormatter()
                        for s in snapshots {
                            say("\(s.name)  \(format.string(from: s.created))  \(s.services.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.engine) \($0.value.version)" }.joined(separator: ", "))  "
                                + "\(DiskUsage.format(s.exclusiveBytes)) alone (\(DiskUsage.format(s.bytes)) in all)")
                        }
                        say("'alone' is what deleting it frees; the rest it shares with the instance's data and other copies (reflinks)")
                    }
                }
            }
        }
    }
}

struct SnapshotsJSON: Encodable {
    var event = "snapshots"
    var snapshots: [SnapshotJSON]
}

/// A snapshot as `ls --json` prints it: its record, and the disk it takes (`exclusiveBytes`: what deleting it frees).
struct SnapshotJSON: Encodable {
    var name: String
    var sandbox: String
    var services: [String: SnapshotInfo.Service]
    var created: Date
    var bytes: Int64
    var exclusiveBytes: Int64

    init(info: SnapshotInfo, usage: DiskUsage) {
        name = info.name
        sandbox = info.sandbox
        services = info.services
        created = info.created
        bytes = usage.bytes
        exclusiveBytes = usage.exclusiveBytes
    }
}

struct SnapshotSaved: Encodable {
    var event = "result"
    var instance: String
    var sandbox: String
    var snapshot: String
    var services: [String]
}

struct SnapshotDeleted: Encodable {
    var event = "result"
    var instance: String
    var snapshot: String
    var freedBytes: Int64
}
