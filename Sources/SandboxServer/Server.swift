import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import SandboxBase
import SandboxKit

/// `sandbox serve`: the API, the page, and the operations they start, in one process.
///
/// On SIGINT or SIGTERM it stops taking operations, lets running ones finish (up to the stop timeout, then
/// cancels them, which the next `up` converges from), keeps answering reads meanwhile, then closes.
package enum SandboxHTTPServer {
    /// Runs until stopped. `started` gets the login link once the port is open (the real port for `:0`).
    package static func run(_ configuration: ServeConfiguration, logger: Logger, started: @escaping @Sendable (String) -> Void) async throws {
        let center = OperationCenter()
        let follower = BranchFollower(checkouts: configuration.checkouts, executable: configuration.executable, center: center)
        let address = ServerAddress(configuration.origin)
        let previews = PreviewKeeper(checkouts: configuration.checkouts, settings: configuration.previews,
                                     executable: configuration.executable, center: center, address: address)
        let router = makeRouter(configuration, address: address, center: center, follower: follower, previews: previews)
        let server: HTTPServerBuilder
        // A connection that sends nothing for 10 s (half a header, then silence) is closed: it holds no slot for long.
        let http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(10))
        if let tls = configuration.tls {
            server = try .tls(.http1(configuration: http1), tlsConfiguration: try tlsConfiguration(tls))
        } else {
            server = .http1(configuration: http1)
        }
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                var c = configuration
                c.port = channel.localAddress?.port ?? configuration.port
                address.set(c.origin)
                started("\(c.origin)/?token=\(configuration.token)")
            },
            logger: logger)
        // Services stop in reverse order: the poller, then the operations (while the API still answers), then the server.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app), .init(service: OperationDrain(center: center, timeout: configuration.stopTimeout))]
        if let interval = configuration.poll {
            services.append(.init(service: Poller(follower: follower, previews: configuration.previews.isEnabled ? previews : nil,
                                                  checkouts: configuration.checkouts, interval: interval)))
        }
        // Previews a previous serve made: their branches are checked once (a branch deleted meanwhile takes its preview).
        let known = Set(await previews.all().map(\.checkout.id))
        for checkout in configuration.checkouts where known.contains(checkout.id) { await previews.request(checkout.id, branches: []) }
        services.append(.init(service: Every(interval: await previews.tick, immediately: false) { await previews.expire() }))
        if let interval = configuration.gcEvery {
            let checkouts = configuration.checkouts, executable = configuration.executable
            services.append(.init(service: Every(interval: interval, immediately: false) {
                // A failed run is said in serve's log (the next one tries again); one that freed space, at info level.
                for checkout in checkouts {
                    do {
                        let result = try await Core(checkout: checkout.root.path, executable: executable).gc(dryRun: false)
                        logger.info("scheduled gc of \(checkout.root.path): \(result.items.filter(\.removed).count) removed, \(result.freedBytes) bytes freed")
                    } catch {
                        logger.error("scheduled gc of \(checkout.root.path) failed: \(error); it runs again in \(interval)")
                    }
                }
            }))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func makeRouter(_ configuration: ServeConfiguration, address: ServerAddress,
                           center: OperationCenter, follower: BranchFollower, previews: PreviewKeeper) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: NoUpgrade())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: Admission())
        router.add(middleware: AccessGuard(token: configuration.token, address: address))
        let api = API(checkouts: configuration.checkouts, center: center, follower: follower, previews: previews,
                      hookSecret: configuration.hookSecret, executable: configuration.executable)
        for endpoint in api.endpoints {
            router.on(RouterPath(endpoint.routerPath), method: endpoint.method, use: endpoint.handler)
        }
        Page.register(on: router, token: configuration.token, secure: configuration.tls != nil)
        return router
    }

    static func tlsConfiguration(_ files: ServeConfiguration.TLSFiles) throws(SandboxError) -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw SandboxError(.badRequest, "cannot use the TLS certificate \(files.certificate) and key \(files.key): \(error)",
                               fix: "pass a PEM certificate chain and its PEM private key")
        }
    }
}

/// Lets running operations finish when `serve` is asked to stop.
struct OperationDrain: Service {
    let center: OperationCenter
    let timeout: Duration

    func run() async throws {
        try? await gracefulShutdown()
        await center.stop(timeout: timeout)
    }
}

/// `--poll`: asks the follower to check every checkout's upstream on an interval (for hosts webhooks cannot reach), and
/// the previews to follow every matching branch.
struct Poller: Service {
    let follower: BranchFollower
    let previews: PreviewKeeper?
    let checkouts: [ServedCheckout]
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for checkout in checkouts where await !follower.isBusy(checkout.id) { await follower.request(checkout.id) }
                for checkout in checkouts { await previews?.request(checkout.id, branches: nil) }
                try await Task.sleep(for: interval)
            }
        }
    }
}

/// Work on an interval for the life of the server: the previews' clock, the scheduled `gc`.
struct Every: Service {
    let interval: Duration
    let immediately: Bool
    let work: @Sendable () async -> Void

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            if !immediately { try await Task.sleep(for: interval) }
            while !Task.isCancelled {
                await work()
                try await Task.sleep(for: interval)
            }
        }
    }
}
