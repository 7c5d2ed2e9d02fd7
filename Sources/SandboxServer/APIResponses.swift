import Foundation
import HTTPTypes
import Hummingbird
import SandboxBase
import SandboxOutput
import SandboxKit

/// JSON responses: the core's objects in the encoding `--json` prints (`JSONLine`), and errors with the status
/// their code has in the one table (`SandboxError.Code.httpStatus`).
enum APIResponse {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        json(JSONLine.text(value), status: status)
    }

    /// The server's own small objects (checkouts, the follower's status, the hook's answer).
    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return json(String(decoding: data, as: UTF8.self), status: status)
    }

    /// `{"event":"error","code","message","fix"}`, the object `--json` prints on failure.
    static func error(_ event: ErrorEvent) -> Response {
        var response = json(event, status: HTTPResponse.Status(code: event.typedCode.httpStatus))
        // Busy, or stopping: when to ask again.
        if event.typedCode == .serverBusy || event.typedCode == .shuttingDown { response.headers[.retryAfter] = "1" }
        return response
    }

    static func error(_ error: SandboxError) -> Response {
        self.error(ErrorEvent(code: error.code, message: error.message, fix: error.fix ?? ""))
    }
}

/// Turns whatever a handler throws into the same JSON error object, so no request ends in an HTML error page
/// or an empty body (the router's own 404 and 405 included).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: SandboxError.Code = switch error.status {
            case .notFound: .notFound
            case .unauthorized: .unauthorized
            case .forbidden: .crossOrigin
            default: .badRequest
            }
            let message = error.status == .notFound ? "no such path: \(request.method) \(request.uri.path)"
                : (error.body ?? "\(error.status.reasonPhrase) for \(request.method) \(request.uri.path)")
            var response = APIResponse.error(SandboxError(code, message, fix: "the API's paths and shapes are in GET /api/v1/openapi.json"))
            if error.status != .notFound && error.status.code < 500 { response.status = error.status }
            return response
        } catch let error as DecodingError {
            return APIResponse.error(SandboxError(.badRequest, "the request body is not what this path takes: \(error)",
                                                  fix: "send JSON as GET /api/v1/openapi.json describes"))
        } catch {
            if let event = ErrorEvent(error) { return APIResponse.error(event) }
            throw error
        }
    }
}
