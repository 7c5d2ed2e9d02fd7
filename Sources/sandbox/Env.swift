import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Env: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the instance's exported variables as `export KEY=value` lines, for eval.",
            discussion: "Example:\n  eval \"$(sandbox env)\" && psql \"$DATABASE_URL\""
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "Print one JSON object of the variables.")
        var json = false

        func run() async throws {
            try await reporting(json: json) {
                let pairs = try options.instance(sandbox).environment()
                if json {
                    JSONOutput.emit(Dictionary(pairs, uniquingKeysWith: { $1 }))
                } else {
                    for (key, value) in pairs { say("export \(key)=\(shellQuote(value))") }
                }
            }
        }
    }
}
