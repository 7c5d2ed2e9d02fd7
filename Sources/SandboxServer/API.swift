import Foundation
import NIOFoundationCompat
import HTTPTypes
import Hummingbird
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxObserve
import SandboxOutput
import SandboxOperations
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
    let center: OperationCenter
    let follower: BranchFollower
    let previews: PreviewKeeper
    /// `SANDBOX_HOOK_SECRET`: without it, `/hooks/git` takes nothing.
    let hookSecret: String?
    /// This binary, which delivers notifications in the background.
    let executable: String
    /// Push deliveries already taken.
    let deliveries = GitHook.Deliveries()

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
            Endpoint(method: .get, path: "/api/v1/previews") { _, _ in
                var list: [[String: Any]] = []
                for (checkout, preview) in await previews.all() { list.append(await previews.json(checkout, preview)) }
                return APIResponse.json(["previews": list])
            },
            Endpoint(method: .post, path: "/api/v1/previews/{preview}/keep") { _, c in
                let id = c.parameters.get("preview") ?? ""
                let kept = try await previews.keep(id)
                guard let (checkout, _) = await previews.all().first(where: { PreviewNames.id(checkout: $0.checkout.id, instance: $0.preview.instance) == id })
                else { throw PreviewKeeper.unknown(id) }
                return APIResponse.json(await previews.json(checkout, kept))
            },
            Endpoint(method: .delete, path: "/api/v1/previews/{preview}") { _, c in
                let id = c.parameters.get("preview") ?? ""
                try await previews.remove(id)
                return APIResponse.json(["preview": id, "result": "removed"])
            },
            Endpoint(method: .get, path: "/api/v1/instances") { _, _ in try await instanceList() },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(try await t.core.status(t.instance, secrets: flag(r, "secrets")))
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/env") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(Dictionary(try t.core.environment(t.instance), uniquingKeysWith: { $1 }))
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/plan") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(try await t.core.plan(t.instance, try planOperation(r)))
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/up") { r, c in
                try await submit("up", r, c) { t, reporter in .up(try await t.core.up(t.instance, reporter: reporter)) }
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/down") { r, c in
                try await submit("down", r, c) { t, reporter in .removal(try await t.core.down(t.instance, reporter: reporter)) }
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/services/{service}/restart") { r, c in
                let service = c.parameters.get("service") ?? ""
                return try await submit("restart", r, c) { t, reporter in .up(try await t.core.restart(t.instance, services: [service], reporter: reporter)) }
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/reset") { r, c in
                try await submit("reset", r, c) { t, reporter in .up(try await t.core.reset(t.instance, reporter: reporter)) }
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/destroy") { r, c in
                let deleteData = flag(r, "deleteData")
                return try await submit("destroy", r, c) { t, reporter in
                    .removal(try await t.core.destroy(t.instance, deleteData: deleteData, reporter: reporter))
                }
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/snapshots") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(try t.core.snapshots(t.instance))
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/snapshots") { r, c in
                let body = try await r.decode(as: SnapshotRequest.self, context: c)
                let name = try snapshotName(body.name)
                return try await submit("snapshot-save", r, c) { t, reporter in
                    .snapshotSaved(try await t.core.saveSnapshot(t.instance, name: name, reporter: reporter))
                }
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/snapshots/{snapshot}/restore") { r, c in
                let name = try snapshotName(c.parameters.get("snapshot") ?? "")
                return try await submit("snapshot-restore", r, c) { t, reporter in
                    .up(try await t.core.restore(t.instance, snapshot: name, reporter: reporter))
                }
            },
            Endpoint(method: .delete, path: "/api/v1/instances/{instance}/snapshots/{snapshot}") { r, c in
                let name = try snapshotName(c.parameters.get("snapshot") ?? "")
                return try await submit("snapshot-delete", r, c) { t, reporter in
                    .snapshotDeleted(try await t.core.deleteSnapshot(t.instance, name: name, reporter: reporter))
                }
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/logs/{service}") { r, c in try await logs(r, c) },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/databases") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(try await t.core.leases(t.instance))
            },
            Endpoint(method: .get, path: "/api/v1/instances/{instance}/services/{service}/databases") { r, c in
                let t = try await target(r, c)
                let service = c.parameters.get("service") ?? ""
                var list = try await t.core.leases(t.instance)
                guard list.pools.contains(where: { $0.service == service }) else {
                    throw SandboxError(.noLeases, "service \(service) lends no databases",
                                       fix: "GET /api/v1/instances/\(t.instance.instance)/databases lists those that do")
                }
                list.pools = list.pools.filter { $0.service == service }
                list.leases = list.leases.filter { $0.service == service }
                return APIResponse.json(list)
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/services/{service}/databases") { r, c in
                let t = try await target(r, c)
                let body = try await leaseBody(r)
                let lease = try await t.core.lease(t.instance, service: c.parameters.get("service") ?? "", database: body.database, ttl: try body.seconds())
                var response = APIResponse.json(lease, status: .created)
                response.headers[.location] = "/api/v1/instances/\(lease.instance)/services/\(lease.service)/databases/\(lease.id)"
                return response
            },
            Endpoint(method: .delete, path: "/api/v1/instances/{instance}/services/{service}/databases/{id}") { r, c in
                let t = try await target(r, c)
                return APIResponse.json(try await t.core.release(t.instance, service: c.parameters.get("service") ?? "", id: c.parameters.get("id") ?? ""))
            },
            Endpoint(method: .post, path: "/api/v1/instances/{instance}/services/{service}/databases/{id}/renew") { r, c in
                let t = try await target(r, c)
                let body = try await leaseBody(r)
                return APIResponse.json(try await t.core.renew(t.instance, service: c.parameters.get("service") ?? "", id: c.parameters.get("id") ?? "",
                                                               ttl: try body.seconds()))
            },
            Endpoint(method: .get, path: "/api/v1/operations") { _, _ in
                APIResponse.json(OperationList(operations: await center.all().reversed()))
            },
            Endpoint(method: .get, path: "/api/v1/operations/{id}") { _, c in APIResponse.json(try await operation(c)) },
            Endpoint(method: .delete, path: "/api/v1/operations/{id}") { _, c in
                let op = try await operation(c)
                return APIResponse.json(await center.cancel(op.id) ?? op)
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
                               fix: "give the webhook the same secret as SANDBOX_HOOK_SECRET "
                                   + "(GitHub/Gitea: HMAC-SHA256 in X-Hub-Signature-256; GitLab: X-Gitlab-Token)")
        }
        if header("X-GitHub-Event") == "ping" || header("X-Gitea-Event") == "ping" {
            return APIResponse.json(["event": "hook", "result": "pong"])
        }
        guard (try? JSONSerialization.jsonObject(with: body)) != nil else {
            throw SandboxError(.badRequest, "the event's body is not JSON; nothing was changed",
                               fix: "send the forge's push event as it is (Content-Type: application/json)")
        }
        // The same signed delivery twice (a replay, a forge retrying) is applied once: by its delivery id, else its body.
        let delivery = header("X-GitHub-Delivery") ?? header("X-Gitea-Delivery") ?? header("X-Gitlab-Event-UUID")
            ?? GitHook.digest(body)
        guard await deliveries.first(delivery) else {
            return APIResponse.json(["event": "hook", "result": "already applied: this delivery was received before", "delivery": delivery])
        }
        guard let push = GitHook.push(from: body) else {
            return APIResponse.json(["event": "hook", "result": "ignored: not a push to a branch"])
        }
        // A branch with previews (serve --previews): made, updated, or (deleted) removed, whatever the checkouts are on.
        var previewing: [String] = []
        for checkout in checkouts where await previews.wants(push.branch, checkout: checkout) {
            await previews.request(checkout.id, branches: [push.branch])
            previewing.append(checkout.id)
        }
        let matching = push.deleted ? [] : await follower.following(push.branch)
        for checkout in matching { await follower.request(checkout.id) }
        let quiet = matching.isEmpty && previewing.isEmpty
        let result = !quiet ? "updating" : push.deleted ? "ignored: a deleted branch without a preview" : "no served checkout is on \(push.branch)"
        return APIResponse.json(["event": "hook", "result": result, "branch": push.branch, "commit": push.deleted ? NSNull() : push.commit,
                                 "checkouts": matching.map(\.id), "previews": previewing],
                                status: quiet ? .ok : .accepted)
    }

    /// `ls` of every served checkout, each instance marked with its checkout; one `docker ps` per checkout.
    func instanceList() async throws -> Response {
        var instances: [ServedInstance] = []
        for checkout in checkouts {
            let list: InstanceList
            do {
                list = try await Core(checkout: checkout.root.path, executable: executable).list()
            } catch let error as SandboxError where error.code == .noRecipes {
                continue
            } catch is RecipeErrors {
                continue
            }
            instances += list.instances.map { ServedInstance(checkout: checkout.id, status: $0) }
        }
        return APIResponse.json(ServedInstanceList(instances: instances))
    }

    // MARK: - Changing

    /// Queues an operation and answers 202 with it; progress is at `/api/v1/operations/{id}/events`.
    func submit(_ kind: String, _ request: Request, _ context: BasicRequestContext,
                _ work: @escaping @Sendable (Target, any ProgressReporter) async throws -> OperationResult) async throws -> Response {
        let t = try await target(request, context)
        let op = try await center.submit(kind: kind, checkout: t.checkout.id, instance: t.instance.instance) { reporter in
            try await work(t, reporter)
        }
        var response = APIResponse.json(op, status: .accepted)
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
        let t = try await target(request, context)
        let service = context.parameters.get("service") ?? ""
        let tailText = request.uri.queryParameters.get("tail") ?? "100"
        guard let tail = Int(tailText), (0...100_000).contains(tail) else {
            throw SandboxError(.badRequest, "tail must be a number of lines from 0 to 100000, not '\(tailText)'", fix: "use ?tail=200")
        }
        if flag(request, "follow") {
            // The service is checked before the stream starts, so a mistake gets its error, not an empty stream.
            _ = try await t.core.logs(t.instance, service: service, tail: 0)
            return EventStreams.logs { line in try await t.core.followLogs(t.instance, service: service, tail: tail, line: line) }
        }
        return APIResponse.json(try await t.core.logs(t.instance, service: service, tail: tail))
    }

    // MARK: - Request values

    struct Target: Sendable {
        var checkout: ServedCheckout
        var instance: Core.Target
        var core: Core
    }

    /// The checkout (`?checkout=ID`, a preview's `ID~INSTANCE`, else the first), the instance (the path), the sandbox
    /// (`?sandbox=`, optional).
    func target(_ request: Request, _ context: BasicRequestContext) async throws -> Target {
        let checkout: ServedCheckout
        if let id = request.uri.queryParameters.get("checkout") {
            var found = checkouts.first(where: { $0.id == id })
            if found == nil { found = try await previews.checkout(String(id), instance: context.parameters.get("instance") ?? "") }
            guard let found else {
                throw SandboxError(.notFound, "this server serves no checkout '\(id)'", fix: "use one of: \(checkouts.map(\.id).joined(separator: ", "))")
            }
            checkout = found
        } else {
            checkout = checkouts[0]
        }
        let instance = context.parameters.get("instance") ?? ""
        try InstanceLayout.validate(instance: instance)
        // The sandbox's name is the core's to check, with the rules and the did-you-mean the CLI gives.
        let sandbox = request.uri.queryParameters.get("sandbox").map { String($0) }
        var core = Core(checkout: checkout.root.path, executable: executable)
        // A lease's pool is refilled by this process, which also keeps it full and reclaims what runs out.
        core.leaseRefill = .task
        return Target(checkout: checkout, instance: Core.Target(sandbox: sandbox, instance: instance), core: core)
    }

    /// A lease request's body: none, `{}`, or `{"database": "app", "ttl": "10m"}` (a number is seconds).
    func leaseBody(_ request: Request) async throws -> LeaseRequest {
        let data = Data(buffer: try await request.body.collect(upTo: 64 << 10))
        guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return LeaseRequest() }
        do { return try JSONDecoder().decode(LeaseRequest.self, from: data) } catch {
            throw SandboxError(.badRequest, "the body is not a lease request", fix: #"send nothing, or {"database": "NAME", "ttl": "10m"}"#)
        }
    }

    func flag(_ request: Request, _ name: String) -> Bool {
        guard let value = request.uri.queryParameters.get(name) else { return false }
        return value == "true" || value == "1" || value == "yes"
    }

    func planOperation(_ request: Request) throws -> InstanceOperation {
        switch request.uri.queryParameters.get("action") ?? "up" {
        case "up": return .up
        case "reset": return .reset
        case "down": return .down
        case "destroy": return .destroy(deleteData: flag(request, "deleteData"))
        case "restore": return .restore(snapshot: try snapshotName(request.uri.queryParameters.get("snapshot").map { String($0) } ?? ""))
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

/// `POST …/databases` and `…/renew`: which database, and for how long (`"10m"`, or seconds as a number).
struct LeaseRequest: Decodable {
    var database: String?
    var ttl: TTL?

    enum TTL: Decodable {
        case seconds(Int), text(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .seconds(n) } else { self = .text(try c.decode(String.self)) }
        }
    }

    init() {}

    func seconds() throws(SandboxError) -> Int? {
        switch ttl {
        case nil: return nil
        case let .seconds(n)?: return n
        case let .text(text)?:
            guard let n = Durations.seconds(text) else {
                throw SandboxError(.badRequest, "'\(text.prefix(40))' is not a time to live",
                                   fix: "write it like \"90s\", \"10m\" or \"1h\", or a number of seconds")
            }
            return n
        }
    }
}

struct OperationList: Encodable { var operations: [OperationCenter.Operation] }

/// An instance in the list of every served checkout: its status, and which checkout it belongs to.
struct ServedInstance: Encodable {
    var checkout: String
    var status: InstanceStatus

    enum CodingKeys: String, CodingKey { case checkout }

    func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(checkout, forKey: .checkout)
    }
}

struct ServedInstanceList: Encodable { var instances: [ServedInstance] }
