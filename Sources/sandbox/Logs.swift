import ArgumentParser
import Foundation

extension Sandbox {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a service's output.",
            discussion: "Example:\n  sandbox logs db --follow"
        )

        @Argument(help: "The service.")
        var service: String

        @OptionGroup var options: InstanceOptions

        @Flag(name: .shortAndLong, help: "Keep printing new output.")
        var follow = false

        @Option(help: "Only the last N lines.")
        var tail: Int?

        func run() async throws {
            let status = try await reporting { () -> Int32 in
                let instance = try options.instance()
                guard instance.sandbox.service(service) != nil else {
                    _ = try await instance.runningContainer(service)
                    return 1
                }
                let name = instance.layout.containerName(sandbox: instance.sandbox.name, service: service)
                return try await instance.docker.attached(.logs(name, tail: tail, follow: follow))
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
