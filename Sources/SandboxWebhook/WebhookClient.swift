import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SandboxNotify

/// Posts events over HTTP/1.1, with TLS for https:// URLs (the system's trusted roots), on SwiftNIO.
///
/// Not Foundation's URLSession: on Linux it lives in FoundationNetworking, which loads libcurl and some thirty
/// libraries into every `sandbox` command at start (+15 to 30 ms measured, against a no-op `up` of about 60 ms),
/// for the one background process that posts. NIO and BoringSSL are linked into `sandbox` already, for `serve`.
/// A module of its own so SandboxKit stays free of NIO.
package struct WebhookClient: WebhookTransport {
    package init() {}

    enum Failure: Error { case timedOut, closedEarly }

    package func post(_ url: URL, headers: [(String, String)], body: Data, timeout: Double) async -> WebhookResponse {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty else {
            return .failed("not an http:// or https:// URL")
        }
        let tls = scheme == "https"
        let port = parts.port ?? (tls ? 443 : 80)
        let target = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let context: NIOSSLContext?
        do { context = tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil } catch {
            return .failed("TLS: \(error)")
        }
        let limit = TimeAmount.milliseconds(Int64(max(0.001, timeout) * 1000))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let status = loop.makePromise(of: Int.self)
        let deadline = loop.scheduleTask(in: limit) { status.fail(Failure.timedOut) }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target)
        head.headers.add(name: "Host", value: parts.port == nil ? bracketed : "\(bracketed):\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        let request = head
        ClientBootstrap(group: loop)
            .connectTimeout(limit)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        // SNI and the certificate's name check need a host name; an IP address is checked against the certificate's IPs.
                        let name = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(status: status))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case let .failure(error):
                    status.fail(error)
                case let .success(channel):
                    // However it ends (an answer, an error, the deadline), the connection is closed.
                    status.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    channel.write(HTTPClientRequestPart.head(request), promise: nil)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { status.fail($0) }
                }
            }
        defer { deadline.cancel() }
        do {
            return .status(try await status.futureResult.get())
        } catch {
            return .failed(Self.describe(error, timeout: timeout))
        }
    }

    /// A reason people read in the log and in `sandbox doctor`.
    static func describe(_ error: any Error, timeout: Double) -> String {
        let seconds = timeout == timeout.rounded() ? "\(Int(timeout))s" : "\(timeout)s"
        switch error {
        case Failure.timedOut, ChannelError.connectTimeout:
            return "timed out after \(seconds)"
        case Failure.closedEarly:
            return "the connection closed before an answer"
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error, timeout: timeout) }
            return "cannot resolve \(error.host)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOSSLError:
            return "TLS: \(error)"
        case let error as BoringSSLError:
            return "TLS: \(error)"
        default:
            return "\(error)"
        }
    }
}

/// Completes the promise with the response's status as soon as its head arrives; nothing else is read.
private final class StatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let status: EventLoopPromise<Int>

    init(status: EventLoopPromise<Int>) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case let .head(head) = unwrapInboundIn(data), head.status.code >= 200 { status.succeed(Int(head.status.code)) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        status.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        status.fail(WebhookClient.Failure.closedEarly)
        context.fireChannelInactive()
    }
}
