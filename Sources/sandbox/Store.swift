import ArgumentParser
import Foundation
import SandboxBase
import SandboxHost
import SandboxOperations

extension Sandbox {
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep .sandbox/ on a filesystem with reflinks, so copies of data cost the same at any size.",
            discussion: """
            On ext4 every fresh instance, reset and snapshot copies all the data. `store create` formats a sparse
            XFS image with reflinks inside .sandbox/ and mounts it over .sandbox/ (root needed, once; after a
            restart any `sudo sandbox` command or `sudo sandbox store mount` mounts it again).

            Examples:
              sudo sandbox store create
              sudo sandbox store create --size 200G
              sandbox store status
            """,
            subcommands: [Create.self, Mount.self, Status.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make the data store and move .sandbox/ into it (root; no instance may be running).",
                discussion: "Example:\n  sudo sandbox store create --size 100G")
            @Option(help: ArgumentHelp("The store's size, like 64G or 500M (sparse: it takes only what is written; default: 64G or 90% of the free space).",
                                       valueName: "size"))
            var size: String?
            @OptionGroup var location: CheckoutOption

            func run() async throws {
                try await reporting {
                    let checkout = try location.findCheckout()
                    let bytes = try size.map(parseSize)
                    let store = DataStore(checkout: checkout)
                    if store.state == .none {
                        let running = try await Workspace.runningContainers(checkout)
                        if !running.isEmpty {
                            throw SandboxError(.storeFailed, "\(running.count) container(s) of this checkout are running "
                                                   + "(\(running.prefix(3).joined(separator: ", "))); their data would move under them",
                                               fix: "stop them first (`sandbox down --instance NAME` for each in `sandbox ls`), "
                                                   + "then run `sudo sandbox store create` again")
                        }
                    }
                    try await store.create(sizeBytes: bytes) { say($0) }
                }
            }

            func parseSize(_ text: String) throws -> Int64 {
                let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
                let upper = text.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
                if let unit = upper.last, let factor = units[unit], let number = Int64(upper.dropLast()), number > 0 { return number * factor }
                throw ValidationError("--size \(text) is not a size; write it like 64G or 500M")
            }
        }

        struct Mount: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Mount the checkout's data store on .sandbox/ again (after a restart; root).",
                                                            discussion: "Example:\n  sudo sandbox store mount")
            @OptionGroup var location: CheckoutOption

            func run() async throws {
                try await reporting {
                    let store = DataStore(checkout: try location.findCheckout())
                    switch store.state {
                    case .none: say("this checkout has no data store; make one with: sudo sandbox store create")
                    case .mounted, .foreignMount: say(".sandbox/ is mounted already")
                    case .unmounted:
                        guard geteuid() == 0 else { throw Messages.storeNotMounted(image: store.checkout.display(store.image.path)) }
                        try store.mount()
                        say("mounted the data store on .sandbox/")
                    }
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show where .sandbox/ keeps its data and whether copies are reflink clones.",
                                                            discussion: "Example:\n  sandbox store status --json")
            @OptionGroup var location: CheckoutOption
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await reporting(json: format.json) {
                    let status = DataStore(checkout: try location.findCheckout()).status()
                    if format.json {
                        JSONOutput.emit(StoreJSON(status: status))
                        return
                    }
                    switch status.state {
                    case .none, .foreignMount:
                        say(".sandbox/ is on \(status.filesystem), "
                            + (status.reflinks ? "with reflinks: copies of data are clones that cost nothing"
                                               : "without reflinks: every fresh instance, reset and snapshot copies all the data"))
                        if !status.reflinks { say("for copies that cost the same at any size: sudo sandbox store create") }
                    case .mounted:
                        say("data store mounted on .sandbox/ (xfs with reflinks): \(DiskUsage.format(status.usedBytes ?? 0)) used of "
                            + "\(DiskUsage.format(status.sizeBytes ?? 0))")
                    case .unmounted:
                        say("data store not mounted (after a restart); mount it: sudo sandbox store mount")
                    }
                }
            }
        }
    }
}

struct StoreJSON: Encodable {
    var event = "store"
    var status: DataStore.Status
}
