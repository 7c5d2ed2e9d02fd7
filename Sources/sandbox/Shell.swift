import ArgumentParser
import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost

extension Sandbox {
    struct Shell: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a shell in a service's container, as the service's user.",
            discussion: "Example:\n  sandbox shell pg"
        )

        @Argument(help: "The service.")
        var service: String

        @OptionGroup var options: InstanceOptions

        func run() async throws {
            let status = try await reporting { () -> Int32 in
                let instance = try options.instance()
                let (resolved, container) = try await instance.runningContainer(service)
                let tty = isatty(0) == 1 && isatty(1) == 1
                let argv = ["/bin/sh", "-c", "if command -v bash >/dev/null; then exec bash; else exec sh; fi"]
                return try await instance.docker.attached(.execAttached(container.name, user: resolved.spec.runAs, argv: argv, tty: tty))
            }
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Client: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a service's own client (its image recipe's `client`), e.g. psql or mysql.",
            discussion: """
            Each image recipe with a `client` adds a shortcut named after it. Example, two ways to say the same:
              sandbox client psql -- -c 'select 1'
              sandbox psql -c 'select 1'
            """
        )

        @Argument(help: "The client's name (psql, mysql, ...) or a service name.")
        var name: String

        @Argument(parsing: .captureForPassthrough, help: "Arguments for the client.")
        var arguments: [String] = []

        @OptionGroup var options: InstanceOptions

        func run() async throws {
            let status = try await reporting { () -> Int32 in
                let instance = try options.instance()
                let candidates = instance.sandbox.services.filter { $0.spec.client?.name == name || $0.name == name }
                guard let service = candidates.first, let client = service.spec.client else {
                    let names = instance.sandbox.services.compactMap { $0.spec.client?.name }
                    throw SandboxError(.unknownService, "no service of sandbox \(instance.sandbox.name) has a client named '\(name)'",
                                       fix: names.isEmpty ? "add a `client` to the image recipe" : "use one of: \(names.joined(separator: ", "))")
                }
                let (_, container) = try await instance.runningContainer(service.name)
                let stamp = DataStamp.read(from: instance.layout.dataDir(service.name))
                let command = try Rendering.command(client.run, spec: service.spec, stamp: stamp)
                let extra = arguments.first == "--" ? Array(arguments.dropFirst()) : arguments
                let script = ([command] + extra.map(shellQuote)).joined(separator: " ")
                let tty = isatty(0) == 1 && isatty(1) == 1
                return try await instance.docker.attached(.execAttached(container.name, user: service.spec.runAs, argv: ["/bin/sh", "-c", script], tty: tty))
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
