import ArgumentParser
import Foundation
import SandboxKit
import SandboxOutput

extension Sandbox {
    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install or update: build what changed, initialise fresh data once, start services, keep data.",
            discussion: """
            Examples:
              sandbox up                         # the only sandbox in Recipes/, instance dev
              sandbox up demo --instance shard-2
              sandbox up --registry 127.0.0.1:5000   # pull images and set-up data a fleet pushed (docs/fleet.md)
              sandbox up --live                  # mount the application's source folder: an edit needs only `sandbox restart web`
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var registry: RegistryOption

        @OptionGroup var lock: WaitOption

        @Flag(inversion: .prefixedNo, help: "Mount services' 'live' source folders (remembered for the instance until --no-live).")
        var live: Bool?

        @Flag(help: "Record anew a state file that cannot be read (instance.json: ports; secrets.json: passwords), setting it aside.")
        var repair = false

        func run() async throws {
            try await Report.run(output, headline: { $0.changed ? nil : "Everything up to date." }) { reporter in
                var target = try options.target(sandbox.name, registry: try registry.resolved())
                target.live = live
                target.repair = repair
                return try await options.core.up(target, secrets: output.showSecrets, wait: lock.wait, reporter: reporter)
            }
        }
    }
}

/// How `up`, `reset`, `restart` and `snapshot restore` print their result: each service's state and URL, and where the variables are.
enum Report {
    /// Runs an operation that ends with the services' states: progress while it works, then the result, or the error.
    static func run(_ output: OutputOptions, headline: (UpResult) -> String?,
                    _ operation: @escaping (any ProgressReporter) async throws -> UpResult) async throws {
        try await reporting(json: output.json) {
            let result = try await withProgress(json: output.json, operation)
            print(result, output: output, headline: headline(result))
        }
    }

    /// Runs an operation with one result: the result as a JSON line (`--json`), or as `text` prints it; or the error.
    static func value<T: Encodable>(_ format: JSONOption, _ operation: () async throws -> T, text: (T) throws -> Void) async throws {
        try await reporting(json: format.json) {
            let result = try await operation()
            if format.json { JSONOutput.emit(result) } else { try text(result) }
        }
    }

    /// The same, with progress while the operation works.
    static func value<T: Encodable>(_ format: JSONOption, progress operation: (any ProgressReporter) async throws -> T,
                                    text: (T) throws -> Void) async throws {
        try await value(format, { try await withProgress(json: format.json, operation) }, text: text)
    }

    static func print(_ result: UpResult, output: OutputOptions, headline: String?) {
        if output.json { return JSONOutput.emit(result) }
        if let headline { say(headline) }
        for s in result.services { say("\(s.service): \(s.state)  \(s.url ?? "")") }
        say("Variables: \(result.envFile)  (eval \"$(sandbox env\(result.instance == "dev" ? "" : " --instance \(result.instance)"))\")")
    }
}
