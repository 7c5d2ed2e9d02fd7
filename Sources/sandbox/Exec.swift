import ArgumentParser
import Foundation

extension Sandbox {
    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command in a service's container, as the service's user.",
            discussion: "Example:\n  sandbox exec db -- psql -c 'select 1'"
        )

        @Argument(help: "The service.")
        var service: String

        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
        var command: [String] = []

        @OptionGroup var options: InstanceOptions

        func validate() throws {
            if command.isEmpty { throw ValidationError("give the command after --, like: sandbox exec \(service) -- ls /data") }
        }

        func run() async throws {
            let status = try await reporting { () -> Int32 in
                let instance = try options.instance()
                let (resolved, container) = try await instance.runningContainer(service)
                let tty = isatty(0) == 1 && isatty(1) == 1
                return try await instance.docker.attached(.execAttached(container.name, user: resolved.spec.runAs, argv: command, tty: tty))
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
