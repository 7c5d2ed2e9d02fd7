import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxApply

/// One lending service of one instance, as a lease request needs it: its pool, and how a copy is written out (the URL and
/// the recipe's exported variables, with the copy's name, login and the lease server's address in them).
package struct Lender: Sendable {
    package let pool: LeasePool
    package let settings: LeaseSettings
    package let instance: String
    package let service: String
    let forms: LeaseForms
    /// The checkout's folder.
    package let root: String
    /// The files whose change means the recipes or the instance changed: this lender is made anew then.
    let fingerprint: [String]

    package func result(_ entry: LeaseStore.Entry) -> LeaseResult {
        let (url, env) = forms.render(entry)
        return LeaseResult(id: entry.id, instance: instance, service: service, database: entry.database, name: entry.copy,
                           user: entry.copy, password: entry.password, host: forms.host, port: forms.port, url: url, env: env,
                           leased: entry.leased ?? entry.made, expires: entry.expires ?? entry.made)
    }
}

extension Lender {
    /// The lender of `service` of `instance`: an error that says what to do when it lends nothing or has no lease server yet.
    package static func make(_ instance: Instance, service: String, root: String, fingerprint: [String]) throws(SandboxError) -> Lender {
        let lending = try instance.service(named: service)
        guard let settings = lending.leases, let server = instance.sandbox.service(ResolvedService.leaseServer(of: service)) else {
            let lenders = instance.sandbox.services.filter { $0.leases != nil }.map(\.name)
            let add = "add 'leases: {}' to \(service) in \(instance.sandbox.recipePath) (docs/testing.md), then `sandbox up`"
            throw SandboxError(.noLeases, "service \(service) lends no databases: its recipe has no 'leases:'",
                               fix: lenders.isEmpty ? add : "lend from \(lenders.joined(separator: ", ")), or \(add)")
        }
        guard let port = try InstanceState.load(instance.layout)?.ports[server.name] else {
            throw SandboxError(.notRunning, "the lease server of \(service) (\(server.name)) has not been started",
                               fix: "run `\(Messages.up(instance.layout.instance))`: it starts it")
        }
        let pool = LeasePool(docker: instance.docker, layout: instance.layout, sandbox: instance.sandbox.name, service: lending, server: server)
        return Lender(pool: pool, settings: settings, instance: instance.layout.instance, service: service,
                      forms: LeaseForms(lender: lending, server: server, port: port, sandbox: instance.sandbox, instance: instance.layout.instance),
                      root: root, fingerprint: fingerprint)
    }
}

extension Instance {
    /// Each lending service's pool and what it has lent (no passwords): read from the lease stores alone.
    package func leaseList() -> LeaseList {
        var list = LeaseList(instance: layout.instance, pools: [], leases: [])
        for service in sandbox.services {
            guard let settings = service.leases else { continue }
            let store = LeaseStore(folder: layout.leases(service.name))
            let lent = store.entries(.leased)
            list.pools.append(.init(service: service.name, server: ResolvedService.leaseServer(of: service.name), databases: settings.databases,
                                    size: settings.pool, ttl: settings.ttl, ready: store.count(.ready), lent: lent.count))
            list.leases += lent.map { .init(id: $0.id, service: service.name, database: $0.database, name: $0.copy, leased: $0.leased, expires: $0.expires) }
        }
        return list
    }
}

/// The pools a process keeps: one per lending service of an instance, made on first use and kept while the recipes and
/// the instance stay as they were, so `serve` keeps one session per lease server and answers a lease without reading
/// the recipes again (a stat of four files tells it nothing changed).
package actor LeaseDesk {
    package static let shared = LeaseDesk()

    private struct Key: Hashable { var root: String, instance: String, service: String }
    private var lenders: [Key: Lender] = [:]
    private var keepers: [Key: Task<Void, Never>] = [:]
    /// Keys a lender is being made for, and who waits for it: requests that arrive together share one lender (each
    /// making its own, the last replacing the others, ended sessions other requests were still using).
    private var making: Set<Key> = []
    private var waiting: [Key: [CheckedContinuation<Void, Never>]] = [:]

    /// The lender for `service`, made by `make` unless one made from the same files is kept. A lender it replaces is
    /// closed once the requests still using it are answered.
    package func lender(root: String, instance: String, service: String, current: () -> [String],
                        make: () async throws -> Lender) async throws -> Lender {
        let key = Key(root: root, instance: instance, service: service)
        while making.contains(key) {
            await withCheckedContinuation { waiting[key, default: []].append($0) }
        }
        if let kept = lenders[key], kept.fingerprint == current() { return kept }
        making.insert(key)
        defer {
            making.remove(key)
            for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume() }
        }
        let made = try await make()
        let old = lenders[key]
        lenders[key] = made
        // Ended apart: its last session may take a while to go (a busy engine), and no lease waits for that.
        if let old { Task { await old.pool.close() } }
        return made
    }

    /// Keeps the pool of a long-running process full and its leases reclaimed: a refill every `interval`.
    package func keep(_ lender: Lender, root: String, every interval: Duration) {
        let key = Key(root: root, instance: lender.instance, service: lender.service)
        guard keepers[key] == nil else { return }
        keepers[key] = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let current = self.lenders[key] else { return }
                _ = try? await current.pool.refill()
            }
        }
    }
}

/// How a lent copy is written out: the image recipe's lease `url`, and each variable the sandbox recipe exports for the
/// lending service alone, rendered for the copy: its login and password, the lease server's host and port, and the
/// copy's name wherever the recipe wrote the lent database's name.
struct LeaseForms: Sendable {
    var service: String
    var host: String
    var port: Int
    var url: Template
    var env: [SandboxRecipe.EnvEntry]
    var instance: String
    var sandbox: String

    init(lender: ResolvedService, server: ResolvedService, port: Int, sandbox: ResolvedSandbox, instance: String) {
        service = lender.name
        host = Rendering.host(server.publish)
        self.port = port
        url = server.spec.leases!.url
        self.instance = instance
        self.sandbox = sandbox.name
        env = sandbox.env.filter { entry in
            let services = Set(entry.value.references.compactMap { ref -> String? in
                let parts = ref.split(separator: ".", maxSplits: 1)
                return parts.count == 2 && parts[0] != "env" ? String(parts[0]) : nil
            })
            return services == [lender.name]
        }
    }

    func render(_ entry: LeaseStore.Entry) -> (url: String, env: [String: String]) {
        let url = (try? self.url.render { name in
            switch name {
            case "user": return entry.copy
            case "password": return entry.password
            case "host": return host
            case "port": return String(port)
            case "database": return entry.copy
            default: return nil
            }
        }) ?? ""
        var env: [String: String] = [:]
        for entry2 in self.env {
            let template = Self.replacing(entry.database, with: entry.copy, in: entry2.value)
            let value = try? template.render { name in
                switch name {
                case "\(service).user": return entry.copy
                case "\(service).password": return entry.password
                case "\(service).host": return host
                case "\(service).port": return String(port)
                case "\(service).url": return url
                case "instance": return instance
                case "sandbox": return sandbox
                default:
                    return name.hasPrefix("env.") ? ProcessInfo.processInfo.environment[String(name.dropFirst(4))] : nil
                }
            }
            if let value { env[entry2.name] = value }
        }
        return (url, env)
    }

    /// `template` with every whole-word `word` in its text (not in its references) replaced: `…/bookmarker?…` becomes
    /// `…/lease_…?…`, `bookmarkers` stays.
    static func replacing(_ word: String, with replacement: String, in template: Template) -> Template {
        func isWordCharacter(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" } ?? false }
        var out = template
        out.parts = template.parts.map { part in
            guard case let .text(text) = part, !word.isEmpty else { return part }
            var result = "", rest = Substring(text)
            while let range = rest.range(of: word) {
                let before = range.lowerBound == rest.startIndex ? result.last : rest[rest.index(before: range.lowerBound)]
                let after = range.upperBound == rest.endIndex ? nil : rest[range.upperBound]
                result += rest[..<range.lowerBound]
                result += isWordCharacter(before) || isWordCharacter(after) ? word : replacement
                rest = rest[range.upperBound...]
            }
            return .text(result + rest)
        }
        return out
    }
}

/// A lent copy, as `sandbox db lease --json` prints it and `POST …/databases` answers (201).
package struct LeaseResult: Codable, Sendable, Equatable {
    package var event = "lease"
    package var id: String
    package var instance: String
    package var service: String
    /// The database it is a copy of.
    package var database: String
    /// The copy's own name on the lease server (also its login's).
    package var name: String
    package var user: String
    package var password: String
    package var host: String
    package var port: Int
    package var url: String
    /// The sandbox recipe's variables for this service, written for the copy.
    package var env: [String: String]
    package var leased: Date
    package var expires: Date
}

/// `sandbox db ls`: what each lending service holds ready and has lent.
package struct LeaseList: Codable, Sendable, Equatable {
    package var event = "leases"
    package var instance: String
    package var pools: [Pool]
    package var leases: [Lease]

    package struct Pool: Codable, Sendable, Equatable {
        package var service: String
        package var server: String
        package var databases: [String]
        package var size: Int
        package var ttl: Int
        package var ready: Int
        package var lent: Int
    }

    package struct Lease: Codable, Sendable, Equatable {
        package var id: String
        package var service: String
        package var database: String
        package var name: String
        package var leased: Date?
        package var expires: Date?
    }
}
