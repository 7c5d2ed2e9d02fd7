import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install or update: build what changed, initialise fresh data once, start services, keep data.",
            discussion: """
            Examples:
              sandbox up                         # the only sandbox in Recipes/, instance dev
              sandbox up demo --instance shard-2
              sandbox up --registry 127.0.0.1:5000   # pull images and set-up data a fleet pushed (docs/fleet.md)
            """
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var registry: RegistryOption

        @OptionGroup var lock: WaitOption

        func run() async throws {
            try await reporting(json: output.json) {
                let workspace = try options.workspace()
                let events = Notifications(workspace.checkout)
                var resolved: String?
                do {
                    var instance = try options.instance(sandbox.name, in: workspace)
                    instance.registry = try registry.resolved()
                    resolved = instance.sandbox.name
                    let (plan, unchanged) = try await withProgress(json: output.json) { try await instance.up(reporter: $0, wait: lock.wait) }
                    let calls = instance.docker.callCount
                    let result = try await Report.result(instance, changed: !plan.isNoOp, dockerCalls: calls, observed: unchanged, output: output,
                                                         headline: plan.isNoOp ? "Everything up to date." : nil)
                    if result.changed { await events.send(.up, result, instance: result.instance) }
                } catch {
                    await events.failed(.upFailed, error, instance: options.instanceName, sandbox: resolved ?? sandbox.name ?? options.sandbox)
                    throw error
                }
            }
        }
    }
}

/// The result `up`, `reset` and `snapshot restore` print: each service's state and URL, and where the variables are.
enum Report {
    /// Returns the object with passwords masked, whatever `--show-secrets` says: what notifications carry.
    @discardableResult
    static func result(_ instance: SandboxKit.Instance, changed: Bool, dockerCalls: Int? = nil, observed: [String: ObservedContainer]? = nil,
                       output: OutputOptions, headline: String?) async throws -> UpResult {
        let containers: [String: ObservedContainer]
        if let observed { containers = observed } else { containers = try await instance.observer.containers() }
        let statuses = try await instance.status(observed: containers, secrets: output.showSecrets)
        let envFile = instance.layout.checkout.display(instance.layout.envFile.path)
        var result = UpResult(event: "result", instance: instance.layout.instance, sandbox: instance.sandbox.name,
                              changed: changed, dockerCalls: dockerCalls, services: statuses, envFile: envFile)
        if output.json {
            JSONOutput.emit(result)
        } else {
            if let headline { say(headline) }
            for s in statuses { say("\(s.service): \(s.state)  \(s.url ?? "")") }
            say("Variables: \(envFile)  (eval \"$(sandbox env\(instance.layout.instance == "dev" ? "" : " --instance \(instance.layout.instance)"))\")")
        }
        // Never a reason to fail once the result is printed (with `observed` given, status asks no engine).
        if output.showSecrets { result.services = (try? await instance.status(observed: containers)) ?? [] }
        return result
    }
}

struct UpResult: Encodable {
    var event: String
    var instance: String
    var sandbox: String
    var changed: Bool
    /// docker processes `up` started (the no-op path needs at most two).
    var dockerCalls: Int?
    var services: [ServiceStatus]
    var envFile: String
}
