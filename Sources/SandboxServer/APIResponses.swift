import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// JSON responses, and the HTTP status each error code is answered with.
enum APIResponse {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        json(JSONObject(object).text, status: status)
    }

    /// `{"event":"error","code","message","fix"}`, the object `--json` prints on failure.
    static func error(_ error: SandboxError) -> Response {
        json(["event": "error", "code": error.code.rawValue, "message": error.message, "fix": error.fix ?? ""], status: status(for: error.code.rawValue))
    }

    static func error(_ object: JSONObject) -> Response {
        json(object.text, status: status(for: object.code ?? "io"))
    }

    static func status(for code: String) -> HTTPResponse.Status {
        switch SandboxError.Code(rawValue: code) {
        case .badRequest, .invalidName, .invalidRecipes, .ambiguousSandbox: .badRequest
        case .unauthorized: .unauthorized
        case .crossOrigin: .forbidden
        case .notFound, .unknownSandbox, .unknownService, .noSuchSnapshot, .noRecipes: .notFound
        case .notRunning, .instanceBusy, .wrongSandbox, .dataDirMismatch, .dataDirDamaged: .conflict
        case .shuttingDown, .engineUnreachable, .dockerMissing: .serviceUnavailable
        default: .internalServerError
        }
    }
}

/// Turns whatever a handler throws into the same JSON error object, so no request ends in an HTML error page
/// or an empty body (the router's own 404 and 405 included).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as SandboxError {
            return APIResponse.error(error)
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
        }
    }
}
