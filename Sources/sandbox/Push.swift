import ArgumentParser
import Foundation
import SandboxEngine

/// `--registry HOST:PORT`, else `$SANDBOX_REGISTRY`: where a fleet's images and golden data are shared.
struct RegistryOption: ParsableArguments {
    @Option(help: ArgumentHelp("A registry a fleet shares (default: $SANDBOX_REGISTRY): images and set-up data are pulled from it when it has them.",
                               valueName: "host:port"))
    var registry: String?

    func resolved() throws -> Registry? {
        guard let address = registry ?? ProcessInfo.processInfo.environment["SANDBOX_REGISTRY"], !address.isEmpty else { return nil }
        return try Registry(address)
    }
}

extension Sandbox {
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push the sandbox's images and golden set-up data to a registry, for a fleet to pull.",
            discussion: """
            Builds and initialises first what is not here yet. Workers then run `sandbox up --registry HOST:PORT`
            and pull what matches their recipes instead of building and initialising (docs/fleet.md).

            Example:
              sandbox push --registry 127.0.0.1:5000
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var registry: RegistryOption
        @OptionGroup var format: JSONOption

        func run() async throws {
            try await reporting(json: format.json) {
                guard let target = try registry.resolved() else {
                    throw ValidationError("name the registry: --registry HOST:PORT (or set SANDBOX_REGISTRY); Scripts/registry-up starts one")
                }
                let instance = try options.instance(sandbox.name)
                let pushed = try await withProgress(json: format.json) { try await instance.push(to: target, reporter: $0) }
                if format.json {
                    JSONOutput.emit(PushResult(sandbox: instance.sandbox.name, registry: target.address, pushed: pushed))
                } else {
                    for reference in pushed { say("pushed \(reference)") }
                }
            }
        }
    }
}

struct PushResult: Encodable {
    var event = "result"
    var sandbox: String
    var registry: String
    var pushed: [String]
}
