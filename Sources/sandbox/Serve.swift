import ArgumentParser
import Foundation
#if Server
import Logging
import SandboxServer
#endif
import SandboxBase
import SandboxOperations

extension Sandbox {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the instances of checkouts over HTTP: a JSON API and a page for people who never open a terminal.",
            discussion: """
            Prints a login link once it listens; the API needs its token (Authorization: Bearer, or the link's cookie).
            Ctrl-C stops taking operations, lets running ones finish, then exits.

            Examples:
              sandbox serve
              sandbox serve --listen 127.0.0.1:8080 --checkout ~/src/app --checkout ~/src/shop
              sandbox serve --listen 0.0.0.0:7420 --tls-cert cert.pem --tls-key key.pem
              SANDBOX_HOOK_SECRET=… sandbox serve --poll 5m   # follow the branch: push events at /hooks/git, and a poll
              SANDBOX_HOOK_SECRET=… sandbox serve --previews 'feature/*' --preview-ttl 2d   # a sandbox per feature branch
            """
        )

        @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "addr:port"))
        var listen = "127.0.0.1:7420"

        @Option(name: .long, help: ArgumentHelp("A checkout to serve (repeat for several; default: the current one).", valueName: "path"))
        var checkout: [String] = []

        @Option(help: ArgumentHelp("TLS certificate chain (PEM).", valueName: "file")) var tlsCert: String?
        @Option(help: ArgumentHelp("TLS private key (PEM).", valueName: "file")) var tlsKey: String?

        @Flag(help: "Allow listening on a non-loopback address without TLS (the token then crosses the network in clear).")
        var insecure = false

        @Option(help: ArgumentHelp("Check each checkout's upstream branch this often and follow it (like a push event), e.g. 60s or 5m.",
                                   valueName: "interval"))
        var poll: String?

        @Option(help: ArgumentHelp("Seconds a stop waits for running operations before cancelling them.", valueName: "seconds"))
        var stopTimeout = 300

        @Option(name: .customLong("previews"), help: ArgumentHelp(
            "Keep a preview sandbox per branch matching this pattern (repeat for several; CHECKOUT:PATTERN for one served checkout).",
            valueName: "pattern"))
        var previewPatterns: [String] = []

        @Option(help: ArgumentHelp("How long a preview lives after its last push or Keep (like 3d, 12h).", valueName: "time"))
        var previewTtl = "3d"

        @Option(help: ArgumentHelp("Previews per checkout at most; a push past it is refused.", valueName: "count"))
        var previewLimit = 8

        @Option(help: ArgumentHelp("Free disk space below which a push makes no new preview (like 2G).", valueName: "size"))
        var previewDiskFloor = "2G"

        @Option(help: ArgumentHelp("The sandbox previews run, when a checkout has several.", valueName: "name"))
        var previewSandbox: String?

        @Option(help: ArgumentHelp("Run gc on every served checkout this often (like 6h), or 'off'.", valueName: "interval"))
        var gcEvery = "6h"

        func validate() throws {
            if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together; pass both") }
            if stopTimeout < 0 { throw ValidationError("--stop-timeout must be 0 or more seconds") }
            if !(1...100).contains(previewLimit) { throw ValidationError("--preview-limit must be from 1 to 100") }
        }

        func run() async throws {
            #if Server
            try await reporting {
                let (host, port) = try ServeConfiguration.parseListen(listen)
                if !ServeConfiguration.isLoopback(host) && tlsCert == nil && !insecure {
                    throw SandboxError(.badRequest, "listening on \(host) would send the token across the network in clear",
                                       fix: "pass --tls-cert and --tls-key, or --insecure if the network is trusted (or listen on 127.0.0.1)")
                }
                let workspaces = try (checkout.isEmpty ? [nil] : checkout.map { Optional($0) }).map { try Workspace.load(path: $0) }
                let served = ServedCheckout.identify(workspaces.map(\.checkout.root))
                let (token, source) = try AccessToken.load(environment: ProcessInfo.processInfo.environment,
                                                           stateFolder: workspaces[0].checkout.stateDirectory)
                var configuration = ServeConfiguration(
                    host: host, port: port, checkouts: served, token: token,
                    tls: tlsCert.map { ServeConfiguration.TLSFiles(certificate: $0, key: tlsKey ?? "") },
                    executable: Self.executablePath(), stopTimeout: .seconds(stopTimeout),
                    hookSecret: ProcessInfo.processInfo.environment["SANDBOX_HOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 },
                    poll: try poll.map { try ServeConfiguration.parseInterval($0) })
                try PreviewSettings.validate(patterns: previewPatterns)
                guard let ttl = Durations.seconds(previewTtl), ttl >= 5, ttl <= 90 * 86_400 else {
                    throw SandboxError(.badRequest, "'\(previewTtl.prefix(40))' is not a preview time to live", fix: "use 5s to 90d, like 3d or 12h")
                }
                configuration.previews = PreviewSettings(patterns: previewPatterns, ttl: ttl, limit: previewLimit,
                                                         diskFloor: try PreviewSettings.parseSize(previewDiskFloor), sandbox: previewSandbox)
                configuration.gcEvery = gcEvery == "off" ? nil : try ServeConfiguration.parseInterval(gcEvery)
                if !ServeConfiguration.isLoopback(host) && tlsCert == nil {
                    FileHandle.standardError.write(Data(("warning: serving on \(host) without TLS (--insecure): "
                        + "anyone on the network can read the token\n").utf8))
                }
                var logger = Logger(label: "sandbox.serve")
                logger.logLevel = ProcessInfo.processInfo.environment["SANDBOX_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
                try await SandboxHTTPServer.run(configuration, logger: logger) { link in
                    say("sandbox serve: \(served.map { $0.root.path }.joined(separator: ", "))")
                    say("open \(link)")
                    say("(token from \(source); Ctrl-C stops, letting running operations finish)")
                }
            }
            #else
            try await reporting { throw Sandbox.withoutServer("serve") }
            #endif
        }

        /// This binary, so each operation runs exactly the `sandbox` that serves.
        static func executablePath() -> String {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        }
    }
}
