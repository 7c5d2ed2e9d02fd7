import Foundation
import HTTPTypes
import Hummingbird
import SandboxBase

/// Who may call: every `/api/` request carries the token (`Authorization: Bearer …` or the login cookie), and a
/// request that changes something must not come from another site's page.
struct AccessGuard<Context: RequestContext>: RouterMiddleware {
    static var cookieName: String { "sandbox_token" }

    let token: String
    let address: ServerAddress
    var origin: String { address.origin }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if !Self.isSafe(request.method), let refusal = crossOriginRefusal(request) {
            return APIResponse.error(refusal)
        }
        guard path.hasPrefix("/api/") else { return try await next(request, context) }
        guard Self.presented(request).contains(where: { AccessToken.matches($0, token) }) else {
            let said = request.headers[.authorization] != nil || request.cookies[Self.cookieName] != nil
            return APIResponse.error(SandboxError(.unauthorized,
                                                  said ? "the token sent is not this server's"
                                                       : "this API needs the token `sandbox serve` printed",
                                                  fix: "send `Authorization: Bearer <token>` (in .sandbox/serve-token or $SANDBOX_TOKEN), "
                                                      + "or open the link `sandbox serve` printed"))
        }
        return try await next(request, context)
    }

    /// Tokens the request presents: the bearer header and the login cookie.
    static func presented(_ request: Request) -> [String] {
        var tokens: [String] = []
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            tokens.append(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        }
        if let cookie = request.cookies[cookieName] { tokens.append(cookie.value) }
        return tokens
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool { method == .get || method == .head || method == .options }

    /// A browser names the page a request came from (`Origin`, `Sec-Fetch-Site`); tools send neither.
    func crossOriginRefusal(_ request: Request) -> SandboxError? {
        let fetchSite = request.headers[HTTPField.Name("Sec-Fetch-Site")!]
        if let fetchSite, fetchSite != "same-origin", fetchSite != "none" {
            return SandboxError(.crossOrigin, "a \(request.method) from another site's page (Sec-Fetch-Site: \(fetchSite)) is refused",
                                fix: "use the page at \(origin)/, or call the API without a browser")
        }
        guard let given = request.headers[.origin] else { return nil }
        let host = request.head.authority ?? ""
        let scheme = origin.hasPrefix("https") ? "https" : "http"
        if given == origin || (!host.isEmpty && given == "\(scheme)://\(host)") { return nil }
        return SandboxError(.crossOrigin, "a \(request.method) from the page of \(given) is refused; only \(origin) may change sandboxes",
                            fix: "use the page at \(origin)/, or call the API without a browser")
    }
}
