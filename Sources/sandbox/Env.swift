import ArgumentParser
import Foundation
import SandboxRecipes

extension Sandbox {
    struct Env: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the instance's exported variables as `export KEY=value` lines, for eval.",
            discussion: "Example:\n  eval \"$(sandbox env)\" && psql \"$DATABASE_URL\""
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var format: JSONOption

        func run() async throws {
            try await reporting(json: format.json) {
                let pairs = try options.core.environment(try options.target(sandbox.name))
                if format.json { return JSONOutput.emit(Dictionary(pairs, uniquingKeysWith: { $1 })) }
                for (key, value) in pairs { say("export \(key)=\(shellQuote(value))") }
            }
        }
    }
}
