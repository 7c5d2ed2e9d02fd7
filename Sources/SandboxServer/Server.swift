import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import SandboxBase

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
        let router = makeRouter(configuration, address: address, center: center, follower: follower)
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
            services.append(.init(service: Poller(follower: follower, checkouts: configuration.checkouts, interval: interval)))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func makeRouter(_ configuration: ServeConfiguration, address: ServerAddress,
                           center: OperationCenter, follower: BranchFollower) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: NoUpgrade())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: Admission())
        router.add(middleware: AccessGuard(token: configuration.token, address: address))
        let api = API(checkouts: configuration.checkouts, center: center, follower: follower,
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

/// `--poll`: asks the follower to check every checkout's upstream on an interval (for hosts webhooks cannot reach).
struct Poller: Service {
    let follower: BranchFollower
    let checkouts: [ServedCheckout]
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for checkout in checkouts where await !follower.isBusy(checkout.id) { await follower.request(checkout.id) }
                try await Task.sleep(for: interval)
            }
        }
    }
}
