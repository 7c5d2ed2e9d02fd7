import Foundation
import HTTPTypes
import Hummingbird
import SandboxBase
import Synchronization

/// A bound on work: at most `limit` requests are handled at once (event streams, which last, have a bound of their own);
/// past it a request is answered at once with 503 and `Retry-After`, so a burst costs a refusal, not the machine.
struct Admission<Context: RequestContext>: RouterMiddleware {
    let requests: Gate
    let streams: Gate

    init(requests: Int = Admission.requestLimit, streams: Int = Admission.streamLimit) {
        self.requests = Gate(limit: requests)
        self.streams = Gate(limit: streams)
    }

    /// Requests handled at once: enough for a few pages and a test runner on 2 cores, a fraction of what a flood sends.
    static var requestLimit: Int { 16 }
    /// Event streams open at once (each page holds one).
    static var streamLimit: Int { 64 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let stream = request.uri.path.hasSuffix("/events") || request.uri.query?.contains("follow=true") == true
        let gate = stream ? streams : requests
        guard gate.enter() else {
            return APIResponse.error(SandboxError(.serverBusy, "sandbox serve is handling as many requests as it takes at once (\(gate.limit))",
                                                  fix: "retry in a moment (Retry-After says when)"))
        }
        defer { gate.leave() }
        return try await next(request, context)
    }
}

/// A counter with a ceiling.
final class Gate: Sendable {
    let limit: Int
    private let count = Mutex(0)

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        count.withLock { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}

/// A request that asks to switch protocols (`Connection: Upgrade`, as Java's HttpClient sends by default to try HTTP/2) is
/// answered over HTTP/1.1 as any other, but NIO reads nothing more on that connection: the answer says `Connection: close`,
/// so the client opens a new one for its next request instead of sending it into a connection that is gone.
struct NoUpgrade<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.upgrade] != nil else { return try await next(request, context) }
        var response: Response
        do { response = try await next(request, context) } catch let error as SandboxError { response = APIResponse.error(error) }
        response.headers[.connection] = "close"
        return response
    }
}
