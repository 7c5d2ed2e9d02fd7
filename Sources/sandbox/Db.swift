import ArgumentParser
import Foundation
import SandboxBase
import SandboxKit
import SandboxRecipes

extension Sandbox {
    struct Db: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Lend tests a copy of a seeded database, each under its own login (docs/testing.md).",
            discussion: """
            A service whose recipe says `leases:` keeps copies of its databases as set up and migrated ready on a
            server of its own (SERVICE.leases); a lease hands one over in milliseconds, `release` drops it, and one whose
            time runs out unrenewed is reclaimed. The same over HTTP: POST /api/v1/instances/{instance}/services/{service}/databases.

            Examples:
              sandbox db lease pg                       # DATABASE_URL=… and the others, for this copy
              sandbox db lease pg --json --ttl 2m       # {"id": …, "url": …, "env": {…}, …}
              sandbox db release 3f9c2a7d1e4b5a60
              sandbox db ls
            """,
            subcommands: [Lease.self, Release.self, Renew.self, List.self, Refill.self]
        )

        struct Lease: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Borrow a copy of one of the service's databases; prints its variables (or --json).",
                discussion: "Example:\n  eval \"$(sandbox db lease pg)\"   # DATABASE_URL and the other forms, for the copy")
            @Argument(help: "The service that lends it (its recipe says `leases:`).") var service: String
            @Option(help: ArgumentHelp("Which of its lent databases (default: the first its recipe lends).", valueName: "name")) var database: String?
            @Option(help: ArgumentHelp("How long the lease lasts unless renewed, like 90s, 10m or 1h (default: the recipe's).", valueName: "time"))
            var ttl: String?
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                let ttl = try Db.seconds(ttl)
                try await Report.value(format, { try await options.core.lease(try options.target(), service: service, database: database, ttl: ttl) }) {
                    // Shell-quoted lines, so `eval "$(sandbox db lease pg)"` sets them.
                    print(Db.shellLines(["SANDBOX_LEASE_ID": $0.id, "SANDBOX_LEASE_URL": $0.url].merging($0.env) { a, _ in a }))
                }
            }
        }

        struct Release: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Give a copy back: it is dropped, its login with it.",
                                                            discussion: "Example:\n  sandbox db release \"$SANDBOX_LEASE_ID\"")
            @Argument(help: "The lease's id.") var id: String
            @Option(help: ArgumentHelp("The service that lent it (default: whichever did).", valueName: "name")) var service: String?
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await Report.value(format, { try await options.core.release(try options.target(), service: service, id: id) }) {
                    say("released \($0.id): \($0.name) on \($0.service) dropped")
                }
            }
        }

        struct Renew: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Keep a copy longer: its time starts again from now.",
                                                            discussion: "Example:\n  sandbox db renew \"$SANDBOX_LEASE_ID\" --ttl 30m")
            @Argument(help: "The lease's id.") var id: String
            @Option(help: ArgumentHelp("The service that lent it (default: whichever did).", valueName: "name")) var service: String?
            @Option(help: ArgumentHelp("How long from now, like 10m (default: the recipe's).", valueName: "time")) var ttl: String?
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await Report.value(format, { try await options.core.renew(try options.target(), service: service, id: id, ttl: try Db.seconds(ttl)) }) {
                    say("renewed \($0.id) until \(ISO8601DateFormatter().string(from: $0.expires))")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "Each lending service's ready copies and leases.",
                                                            discussion: "Example:\n  sandbox db ls --json")
            @OptionGroup var options: InstanceOptions
            @OptionGroup var format: JSONOption

            func run() async throws {
                try await Report.value(format, { try await options.core.leases(try options.target()) }) { list in
                    if list.pools.isEmpty { return say("instance \(list.instance) lends no databases (no service's recipe says `leases:`)") }
                    for pool in list.pools {
                        say("\(pool.service) (\(pool.server)): \(pool.databases.joined(separator: ", ")): \(pool.ready) ready of \(pool.size), "
                            + "\(pool.lent) lent, each for \(Durations.text(pool.ttl)) unless renewed")
                    }
                    let format = ISO8601DateFormatter()
                    for lease in list.leases {
                        say("  \(lease.id)  \(lease.service)  \(lease.name)  until \(lease.expires.map { format.string(from: $0) } ?? "now")")
                    }
                }
            }
        }

        /// Started in the background after a lease; people need not run it.
        struct Refill: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make the service's pool full again and reclaim what ran out.",
                                                            discussion: "Example:\n  sandbox db refill pg", shouldDisplay: false)
            @Argument(help: "The lending service.") var service: String
            @OptionGroup var options: InstanceOptions

            func run() async throws {
                try await reporting { try await options.core.refillLeases(try options.target(), service: service) }
            }
        }

        static func seconds(_ text: String?) throws -> Int? {
            guard let text else { return nil }
            guard let seconds = Durations.seconds(text) else {
                throw ValidationError("'\(text.prefix(40))' is not a time; write it like 90s, 10m or 1h")
            }
            return seconds
        }

        /// `NAME='value'` lines, sorted by name.
        static func shellLines(_ values: [String: String]) -> String {
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: "\n")
        }
    }
}
