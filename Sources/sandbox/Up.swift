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
            """
        )

        @Argument(help: "The sandbox to bring up (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        @Flag(help: "One JSON event per line, then a result object.")
        var json = false

        @Flag(help: "Fail with instance-busy instead of waiting when another command holds this instance.")
        var noWait = false

        @Flag(help: "Show passwords in URLs (they are masked as *** otherwise; `sandbox env` always shows them).")
        var showSecrets = false

        func run() async throws {
            try await reporting(json: json) {
                let instance = try options.instance(sandbox)
                let progress = Progress(json: json)
                defer { progress.finish() }
                let (plan, unchanged) = try await instance.up(reporter: progress.reporter, wait: !noWait)
                progress.finish()
                let calls = instance.docker.callCount
                let statuses = try await instance.status(observed: unchanged, secrets: showSecrets)
                if json {
                    JSONOutput.emit(UpResult(event: "result", instance: instance.layout.instance, sandbox: instance.sandbox.name,
                                             changed: !plan.isNoOp, dockerCalls: calls, services: statuses,
                                             envFile: instance.layout.checkout.display(instance.layout.envFile.path)))
                } else {
                    if plan.isNoOp { say("Everything up to date.") }
                    for s in statuses { say("\(s.service): \(s.state)  \(s.url ?? "")") }
                    say("Variables: \(instance.layout.checkout.display(instance.layout.envFile.path))  (eval \"$(sandbox env\(instance.layout.instance == "dev" ? "" : " --instance \(instance.layout.instance)"))\")")
                }
            }
        }
    }
}

struct UpResult: Encodable {
    var event: String
    var instance: String
    var sandbox: String
    var changed: Bool
    /// docker processes `up` started (the no-op path needs at most two).
    var dockerCalls: Int
    var services: [ServiceStatus]
    var envFile: String
}
