import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxOperations

/// Lending databases to tests (docs/testing.md): a copy of a seeded database, under its own login, in milliseconds.
/// None of these takes the instance lock: a lease is one rename in the lease store, never a change to the instance.
extension Core {
    /// How a pool is refilled after a lease: by a `sandbox db refill` started in the background (a command that exits
    /// at once), or by a task of this process (`serve`, which also refills every few seconds).
    package enum LeaseRefill: Sendable { case process, task }

    /// `db lease`: a copy of `database` (the service's first lent database when nil) for `ttl` seconds (the recipe's when nil).
    package func lease(_ target: Target, service: String, database: String?, ttl: Int?) async throws -> LeaseResult {
        let lender = try await lender(target, service)
        let name = database ?? lender.settings.databases[0]
        guard lender.settings.databases.contains(name) else {
            throw SandboxError(.noLeases, "service \(service) lends no database '\(name.prefix(80))'",
                               fix: "lend one of: \(lender.settings.databases.joined(separator: ", ")) (or add it to its 'leases: {databases: …}')")
        }
        let seconds = ttl ?? lender.settings.ttl
        try Self.checkTTL(seconds)
        let (entry, _) = try await lender.pool.lease(database: name, ttl: seconds)
        refillInBackground(lender, target: target)
        return lender.result(entry)
    }

    /// `db release`: the copy given back and dropped. `service` nil: whichever lending service lent it.
    package func release(_ target: Target, service: String?, id: String) async throws -> LeaseReleased {
        let lender = try await lender(target, service: service, holding: id)
        guard let entry = try await lender.pool.release(id) else { throw Self.noSuchLease(id, target) }
        return LeaseReleased(id: id, instance: target.instance, service: lender.service, name: entry.copy)
    }

    /// `db renew`: a lent copy's time, from now.
    package func renew(_ target: Target, service: String?, id: String, ttl: Int?) async throws -> LeaseResult {
        let lender = try await lender(target, service: service, holding: id)
        let seconds = ttl ?? lender.settings.ttl
        try Self.checkTTL(seconds)
        guard let entry = try await lender.pool.renew(id, ttl: seconds) else { throw Self.noSuchLease(id, target) }
        return lender.result(entry)
    }

    /// `db ls`: each lending service's pool and what it has lent (no passwords).
    package func leases(_ target: Target) async throws -> LeaseList {
        try instance(target, in: try workspace()).leaseList()
    }

    /// `db refill` (started in the background after a lease): the pool made full, what ran out reclaimed.
    package func refillLeases(_ target: Target, service: String) async throws {
        let lender = try await lender(target, service)
        _ = try await lender.pool.refill(wait: true)
        await lender.pool.close()
    }

    // MARK: -

    static func checkTTL(_ seconds: Int) throws(SandboxError) {
        guard seconds >= 10, seconds <= LeaseSettings.maxTTL else {
            throw SandboxError(.badRequest, "a lease lasts from 10 seconds to 7 days; \(seconds) seconds is outside that",
                               fix: "ask for a time like 10m or 1h (renew it to keep it longer)")
        }
    }

    static func noSuchLease(_ id: String, _ target: Target) -> SandboxError {
        SandboxError(.noSuchLease, "instance '\(target.instance)' has lent no database '\(id.prefix(40))' "
                         + "(given back already, reclaimed after its time, or never lent)",
                     fix: "list what is lent with `sandbox db ls\(target.instance == "dev" ? "" : " --instance \(target.instance)")`")
    }

    func refillInBackground(_ lender: Lender, target: Target) {
        switch leaseRefill {
        case .task:
            Task { _ = try? await lender.pool.refill() }
        case .process:
            Detached.start([executable, "db", "refill", lender.service, "--instance", target.instance, "--checkout", lender.root])
        }
    }

    /// The lender of the service that lent `id`: `service` when given, else the one whose store has it lent.
    func lender(_ target: Target, service: String?, holding id: String) async throws -> Lender {
        guard LeaseStore.isID(id) else { throw Self.noSuchLease(id, target) }
        if let service { return try await lender(target, service) }
        let workspace = try workspace()
        let instance = try instance(target, in: workspace)
        for lending in instance.sandbox.services where lending.leases != nil {
            if LeaseStore(folder: instance.layout.leases(lending.name)).entry(id, in: .leased) != nil { return try await lender(target, lending.name) }
        }
        throw Self.noSuchLease(id, target)
    }

    /// The lender of `service`, kept by the process's desk while nothing it was made from changed.
    func lender(_ target: Target, _ service: String) async throws -> Lender {
        let start = URL(fileURLWithPath: checkoutPath ?? FileManager.default.currentDirectoryPath)
        let checkout = try Checkout.find(from: start)
        try InstanceLayout.validate(instance: target.instance)
        let layout = InstanceLayout(checkout: checkout, instance: target.instance)
        let lender = try await LeaseDesk.shared.lender(root: checkout.root.path, instance: target.instance, service: service,
                                                       current: { Self.fingerprint(layout: layout, service: service) }) {
            let instance = try instance(target, in: try workspace())
            return try Lender.make(instance, service: service, root: checkout.root.path,
                                   fingerprint: Self.fingerprint(layout: instance.layout, service: service))
        }
        if leaseRefill == .task { await LeaseDesk.shared.keep(lender, root: checkout.root.path, every: .seconds(5)) }
        return lender
    }

    /// What a kept lender was made from: the recipe files, the instance's record and the lease server's stamp, by
    /// modification time and size.
    static func fingerprint(layout: InstanceLayout, service: String) -> [String] {
        var files = [layout.stateFile.path, layout.dataDir(ResolvedService.leaseServer(of: service)).appendingPathComponent(DataStamp.fileName).path]
        files += (try? FileManager.default.contentsOfDirectory(atPath: layout.checkout.recipesDirectory.path))?.sorted()
            .map { layout.checkout.recipesDirectory.appendingPathComponent($0).path } ?? []
        files += (try? FileManager.default.contentsOfDirectory(atPath: layout.checkout.imagesDirectory.path))?.sorted()
            .map { layout.checkout.imagesDirectory.appendingPathComponent($0).path } ?? []
        return files.map { path in
            var st = stat()
            guard stat(path, &st) == 0 else { return "\(path):-" }
            return "\(path):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_size)"
        }
    }
}

/// `sandbox db release --json`, and the answer to `DELETE …/databases/{id}`.
package struct LeaseReleased: Codable, Sendable, Equatable {
    package var event = "result"
    package var id: String
    package var instance: String
    package var service: String
    package var name: String
}
