import Foundation
import NIOFoundationCompat
import HTTPTypes
import Hummingbird
import SandboxKit

/// The HTTP API under `/api/v1`: every endpoint, in one table that the router and the OpenAPI test both read.
struct API: Sendable {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    struct Endpoint: Sendable {
        var method: HTTPRequest.Method
        /// OpenAPI style: `/api/v1/instances/{instance}`.
        var path: String
        var handler: Handler

        /// Hummingbird style: `/api/v1/instances/:instance`.
        var routerPath: String {
            path.split(separator: "/", omittingEmptySubsequences: false).map { part in
                part.hasPrefix("{") ? ":" + part.dropFirst().dropLast() : part
            }.joined(separator: "/")
        }
    }

    let checkouts: [ServedCheckout]
    let runner: CommandRunner
    let center: OperationCenter
    let follower: BranchFollower
    /// `SANDBOX_HOOK_SECRET`: without it, `/hooks/git` takes nothing.
    let hookSecret: String?

    var endpoints: [Endpoint] {
        [
            Endpoint(method: .get, path: "/api/v1/openapi.json") { _, _ in APIResponse.json(OpenAPIDocument.text) },
            Endpoint(method: .get, path: "/api/v1/checkouts") { _, _ in await checkoutList() },
            Endpoint(method: .post, path: "/api/v1/checkouts/{checkout}/update") { _, c in
                let id = c.parameters.get("checkout") ?? ""
                guard checkouts.contains(where: { $0.id == id }) else {
                    throw SandboxError(.notFound, "this server serves no checkout '\(id)'", fix: "use one of: \(checkouts.map(\.id).joined(separator: ", "))")
                }
                await follower.request(id)
                return APIResponse.json(["checkout": id, "follow": await follower.status(id).json], status: .accepted)
            },
            Endpoint(method: .post, path: "/hooks/git") { r, _ in try await hook(r) },
            Endpoint(method: .get, path: "/api/v1/instances") { _, _ in try await instanceList() },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}") { r, c in
                let t = try target(r, c)
                return try await read(["status", "--json"] + t.arguments + (flag(r, "secrets") ? ["--show-secrets"] : []))
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/env") { r, c in try await read(["env", "--json"] + target(r, c).arguments) },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/plan") { r, c in try await read(["plan", "--json"] + target(r, c).arguments + planFlags(r)) },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/up") { r, c in try await submit("up", r, c, ["up", "--json"]) },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/down") { r, c in try await submit("down", r, c, ["down", "--json"]) },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/reset") { r, c in try await submit("reset", r, c, ["reset", "--json"]) },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/destroy") { r, c in
                try await submit("destroy", r, c, ["destroy", "--json"] + (flag(r, "deleteData") ? ["--delete-data"] : []))
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/snapshots") { r, c in try await read(["snapshot", "ls", "--json"] + target(r, c).arguments) },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/snapshots") { r, c in
                let body = try await r.decode(as: SnapshotRequest.self, context: c)
                let name = try snapshotName(body.name)
                return try await submit("snapshot-save", r, c, ["snapshot", "save", "--json"], positional: [name])
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/snapshots/{snapshot}/restore") { r, c in
                let name = try snapshotName(c.parameters.get("snapshot") ?? "")
                return try await submit("snapshot-restore", r, c, ["snapshot", "restore", "--json"], positional: [name])
            },
            Endpoint(method: .delete, path: "/api/v1/instances/{instance}/snapshots/{snapshot}") { r, c in
                let name = try snapshotName(c.parameters.get("snapshot") ?? "")
                return try await submit("snapshot-delete", r, c, ["snapshot", "delete", "--json"], positional: [name])
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/logs/{service}") { r, c in try await logs(r, c) },
            Endpoint(method: .get, path: "/api/v1/operations") { _, _ in
                APIResponse.json(["operations": await center.all().reversed().map(\.json)])
            },
            Endpoint(method: .get, path: "/api/v1/operations/{id}") { _, c in APIResponse.json(try await operation(c).json) },
            Endpoint(method: .delete, path: "/api/v1/operations/{id}") { _, c in
                let op = try await operation(c)
                return APIResponse.json(await center.cancel(op.id)?.json ?? op.json)
            },
            Endpoint(method: .get, path: "/api/v1/operations/{id}/events") { _, c in try await EventStreams.operation(try await operation(c), center: center) },
            Endpoint(method: .get, path: "/api/v1/events") { _, _ in EventStreams.everything(center: center) },
        ]
    }

    // MARK: - Reading

    func checkoutList() async -> Response {
        var list: [[String: Any]] = []
        for checkout in checkouts {
            list.append(["id": checkout.id, "path": checkout.root.path,
                         "sandboxes": ((try? Workspace.load(path: checkout.root.path))?.recipes.sandboxes.map(\.name) ?? []).sorted(),
                         "follow": await follower.status(checkout.id).json])
        }
        return APIResponse.json(["checkouts": list])
    }

    /// A push event: each served checkout on the pushed branch is fetched, fast-forwarded and brought up.
    func hook(_ request: Request) async throws -> Response {
        guard let secret = hookSecret, !secret.isEmpty else {
            throw SandboxError(.unauthorized, "webhooks are off: sandbox serve was started without SANDBOX_HOOK_SECRET",
                               fix: "start it with SANDBOX_HOOK_SECRET set, and give the forge's webhook the same secret")
        }
        let body = Data(buffer: try await request.body.collect(upTo: 8 << 20))
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        guard GitHook.verify(body: body, secret: secret, hubSignature: header("X-Hub-Signature-256"),
                             giteaSignature: header("X-Gitea-Signature"), gitlabToken: header("X-Gitlab-Token")) else {
            throw SandboxError(.unauthorized, "the event's signature does not match SANDBOX_HOOK_SECRET; nothing was changed",
                               fix: "give the webhook the same secret as SANDBOX_HOOK_SECRET (GitHub/Gitea: HMAC-SHA256 in X-Hub-Signature-256; GitLab: X-Gitlab-Token)")
        }
        if header("X-GitHub-Event") == "ping" || header("X-Gitea-Event") == "ping" {
            return APIResponse.json(["event": "hook", "result": "pong"])
        }
        guard let push = GitHook.push(from: body) else {
            return APIResponse.json(["event": "hook", "result": "ignored: not a push to a branch"])
        }
        let matching = await follower.following(push.branch)
        for checkout in matching { await follower.request(checkout.id) }
        return APIResponse.json(["event": "hook", "result": matching.isEmpty ? "no served checkout is on \(push.branch)" : "updating",
                                 "branch": push.branch, "commit": push.commit, "checkouts": matching.map(\.id)],
                                status: matching.isEmpty ? .ok : .accepted)
    }

    /// `ls --json` of every served checkout, each instance marked with its checkout.
    func instanceList() async throws -> Response {
        var instances: [[String: Any]] = []
        for checkout in checkouts {
            let outcome = try await runner.run(["ls", "--json", "--checkout", checkout.root.path])
            if let error = outcome.error {
                if error.code == SandboxError.Code.noRecipes.rawValue || error.code == SandboxError.Code.invalidRecipes.rawValue { continue }
                return APIResponse.error(error)
            }
            for var instance in (outcome.final?.dictionary["instances"] as? [[String: Any]]) ?? [] {
                instance["checkout"] = checkout.id
                instances.append(instance)
            }
        }
        return APIResponse.json(["instances": instances])
    }

    /// Runs a read-only command and answers with its final object, or its error.
    func read(_ arguments: [String]) async throws -> Response {
        let outcome = try await runner.run(arguments)
        if let error = outcome.error { return APIResponse.error(error) }
        return APIResponse.json(outcome.final?.text ?? "{}")
    }

    // MARK: - Changing

    /// Queues an operation and answers 202 with it; progress is at `/api/v1/operations/{id}/events`.
    func submit(_ kind: String, _ request: Request, _ context: BasicRequestContext, _ command: [String],
                positional: [String] = []) async throws -> Response {
        let t = try target(request, context)
        let op = try await center.submit(kind: kind, checkout: t.checkout.id, instance: t.instance,
                                         arguments: command + t.arguments + ["--"] + positional)
        var response = APIResponse.json(op.json, status: .accepted)
        response.headers[.location] = "/api/v1/operations/\(op.id)"
        return response
    }

    func operation(_ context: BasicRequestContext) async throws -> OperationCenter.Operation {
        let id = context.parameters.get("id") ?? ""
        guard let op = await center.operation(id) else {
            throw SandboxError(.notFound, "no operation '\(id)'", fix: "GET /api/v1/operations lists the recent ones")
        }
        return op
    }

    func logs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let t = try target(request, context)
        let service = context.parameters.get("service") ?? ""
        guard service.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", options: .regularExpression) != nil else {
            throw SandboxError(.unknownService, "'\(service)' is not a service name", fix: "GET /api/v1/instances/\(t.instance) lists the services")
        }
        let tailText = request.uri.queryParameters.get("tail") ?? "100"
        guard let tail = Int(tailText), (0...100_000).contains(tail) else {
            throw SandboxError(.badRequest, "tail must be a number of lines from 0 to 100000, not '\(tailText)'", fix: "use ?tail=200")
        }
        // The service's state first: an unknown service or one never started gets its error, not empty logs.
        let status = try await runner.run(["status", "--json"] + t.arguments)
        if let error = status.error { return APIResponse.error(error) }
        let services = (status.final?.dictionary["services"] as? [[String: Any]]) ?? []
        guard let state = services.first(where: { $0["service"] as? String == service })?["state"] as? String else {
            throw SandboxError(.unknownService, "instance \(t.instance) has no service '\(service)'",
                               fix: "use one of: \(services.compactMap { $0["service"] as? String }.joined(separator: ", "))")
        }
        guard state != "absent" && state != "stopped" else {
            throw SandboxError(.notRunning, "service \(service) of instance \(t.instance) has no container, so no logs", fix: "start it: POST /api/v1/instances/\(t.instance)/up")
        }
        let arguments = ["logs", "--tail", String(tail)] + t.arguments + ["--", service]
        if flag(request, "follow") { return EventStreams.logs(arguments + ["--follow"], runner: runner) }
        let outcome = try await runner.raw(arguments)
        return APIResponse.json(["service": service, "lines": outcome.lines])
    }

    // MARK: - Request values

    struct Target {
        var checkout: ServedCheckout
        var instance: String
        var sandbox: String?
        var arguments: [String] {
            ["--checkout", checkout.root.path, "--instance=\(instance)"] + (sandbox.map { ["--sandbox=\($0)"] } ?? [])
        }
    }

    /// The checkout (`?checkout=ID`, else the first), the instance (the path), the sandbox (`?sandbox=`, optional).
    func target(_ request: Request, _ context: BasicRequestContext) throws -> Target {
        let checkout: ServedCheckout
        if let id = request.uri.queryParameters.get("checkout") {
            guard let found = checkouts.first(where: { $0.id == id }) else {
                throw SandboxError(.notFound, "this server serves no checkout '\(id)'", fix: "use one of: \(checkouts.map(\.id).joined(separator: ", "))")
            }
            checkout = found
        } else {
            checkout = checkouts[0]
        }
        let instance = context.parameters.get("instance") ?? ""
        try InstanceLayout.validate(instance: instance)
        let sandbox = request.uri.queryParameters.get("sandbox").map { String($0) }
        if let sandbox, sandbox.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", options: .regularExpression) == nil {
            throw SandboxError(.unknownSandbox, "'\(sandbox)' is not a sandbox name", fix: "GET /api/v1/checkouts lists each checkout's sandboxes")
        }
        return Target(checkout: checkout, instance: instance, sandbox: sandbox)
    }

    func flag(_ request: Request, _ name: String) -> Bool {
        guard let value = request.uri.queryParameters.get(name) else { return false }
        return value == "true" || value == "1" || value == "yes"
    }

    func planFlags(_ request: Request) throws -> [String] {
        switch request.uri.queryParameters.get("action") ?? "up" {
        case "up": return []
        case "reset": return ["--reset"]
        case "down": return ["--down"]
        case "destroy": return ["--destroy"] + (flag(request, "deleteData") ? ["--delete-data"] : [])
        case "restore": return ["--restore=\(try snapshotName(request.uri.queryParameters.get("snapshot").map { String($0) } ?? ""))"]
        case let other:
            throw SandboxError(.badRequest, "cannot plan '\(other)'", fix: "use action=up, reset, down, destroy or restore (with snapshot=NAME)")
        }
    }

    func snapshotName(_ name: String) throws(SandboxError) -> String {
        try SnapshotStore.validate(name)
        return name
    }
}

struct SnapshotRequest: Decodable { var name: String }
