import Foundation
import SandboxRecipes
import SandboxHost
import SandboxObserve

/// Moving a service's data to a newer major version of its engine, by the route its image recipe's `upgrade` names.
package struct DataUpgrade: Sendable, Equatable {
    /// The service as the recipe runs it now (the new version).
    package var service: ResolvedService
    /// The same service on the old version's image: the server `dump` runs against (nil for in-place).
    package var old: ResolvedService?
    package var method: ServiceSpec.Upgrade.Method
    /// What made the data, and what the upgraded data is stamped with (the same password and applied steps).
    package var from: DataStamp
    package var stamp: DataStamp
    /// The service's container, started again if the upgrade fails, so the old version keeps running.
    package var container: ObservedContainer?

    package var fromVersion: String { from.version }
    package var toVersion: String { service.spec.version }

    /// How the plan says it: `postgresql 15 -> 17 by dump and restore`.
    package var summary: String {
        "\(from.engine) \(fromVersion) -> \(toVersion) " + (method == .dump
            ? "by dump and restore (the \(fromVersion) server dumps a copy of the data, a fresh \(toVersion) data dir restores it)"
            : "in place (the \(toVersion) server starts on a copy of the data and upgrades it)")
    }

    /// Seconds the route takes for `bytes` of data, from docs/benchmarks.md's figures: servers starting and
    /// stopping, plus the dump's and restore's throughput (or the copy's, in place).
    package static func estimate(method: ServiceSpec.Upgrade.Method, bytes: Int64) -> Int {
        let megabytes = Double(bytes) / 1_000_000
        // Measured by Scripts/bench-upgrade: dump and restore 3.5 s for 36 MB and 20.4 s for 899 MB; in place (a full
        // copy on ext4) 3.4 s for 38 MB and 4.3 s for 344 MB.
        let seconds = method == .dump ? 3 + megabytes / 50 : 3 + megabytes / 300
        return Int(seconds.rounded(.up))
    }
}

/// A refusal, as the planner's verdict on one service's data.
extension Plan.Problem: Error {}

/// Version strings as recipes write them ("15", "10.11", "11.8"): compared number by number.
package enum EngineVersionOrder {
    /// nil when either is not dot-separated numbers.
    package static func compare(_ a: String, _ b: String) -> ComparisonResult? {
        let x = a.split(separator: ".").map { Int($0) }, y = b.split(separator: ".").map { Int($0) }
        guard !x.isEmpty, !y.isEmpty, !x.contains(nil), !y.contains(nil) else { return nil }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i]! : 0, r = i < y.count ? y[i]! : 0
            if l != r { return l < r ? .orderedAscending : .orderedDescending }
        }
        return .orderedSame
    }
}

extension Planner {
    /// What a service's data needs for the recipe's engine version: nothing (nil), an upgrade, or a refusal.
    func versionChange(_ service: ResolvedService, _ stamp: DataStamp, _ observed: ObservedState) -> Result<DataUpgrade, Plan.Problem>? {
        let want = service.spec
        if stamp.engine == want.engine && stamp.version == want.version { return nil }
        let dir = layout.checkout.display(layout.dataDir(service.name).path)
        let keep = "keep it with `sandbox snapshot save NAME` and start fresh with `sandbox destroy --delete-data --instance \(layout.instance)`"
        guard stamp.engine == want.engine else {
            return .failure(.init(.dataDirMismatch, "service \(service.name): its data dir \(dir) was made by \(stamp.engine) \(stamp.version), "
                                      + "but the recipe now runs \(want.engine) \(want.version)",
                                  fix: "move the data yourself (dump it with the old recipe, load it into the new), or \(keep)"))
        }
        switch EngineVersionOrder.compare(stamp.version, want.version) {
        case nil, .orderedSame?:
            return .failure(.init(.dataDirMismatch, "service \(service.name): its data dir was made by \(stamp.engine) \(stamp.version), "
                                      + "and the recipe runs version \(want.version); which is newer cannot be told",
                                  fix: "write versions as numbers with dots, like \"17\" or \"11.8\", in the image recipes' 'version'"))
        case .orderedDescending?:
            let before = observed.snapshotNames.filter { $0.hasPrefix(Self.upgradeSnapshotPrefix([(want.version, stamp.version)])) }.sorted().last
            return .failure(.init(.dataDirMismatch, "service \(service.name): its data dir holds \(stamp.engine) \(stamp.version) data, "
                                      + "newer than the recipe's \(want.version), and data is never moved to an older version",
                                  fix: before.map { "go back to the data from before the upgrade with "
                                                        + "`sandbox snapshot restore \($0) --instance \(layout.instance)`, "
                                                        + "or put the recipe back on \(stamp.engine) \(stamp.version)" }
                                      ?? "put the recipe back on \(stamp.engine) \(stamp.version), or \(keep)"))
        case .orderedAscending?:
            break
        }
        guard let route = want.upgrade else {
            let recipe = sandbox.image(service.imageTag)?.recipe
            let named = recipe.map { $0.directory == nil ? "stock image recipe '\($0.name)'"
                                                         : "image recipe '\($0.name)' (\(layout.checkout.display($0.path)))" }
                ?? "image recipe \(service.imageTag)"
            return .failure(.init(.dataDirMismatch, "service \(service.name): its data dir holds \(stamp.engine) \(stamp.version) data, "
                                      + "and \(named) runs \(want.version) but does not say how to upgrade older data",
                                  fix: "add 'upgrade' to that recipe's service (docs/recipes.md, \"Upgrades\"), "
                                      + "or put the recipe back on \(stamp.engine) \(stamp.version)"))
        }
        var old: ResolvedService?
        if route.method == .dump {
            guard let version = service.version(for: stamp) else {
                return .failure(.init(.dataDirMismatch, "service \(service.name): upgrading its \(stamp.engine) \(stamp.version) data needs "
                                          + "a \(stamp.version) server to dump it, and no image recipe runs \(stamp.engine) \(stamp.version)",
                                      fix: "add that image recipe to Images/ (Images/README.md says how), or put the recipe back on \(stamp.version)"))
            }
            old = service.running(version)
        }
        var stamped = stamp
        stamped.version = want.version
        stamped.imageHash = service.imageHash
        return .success(DataUpgrade(service: service, old: old, method: route.method, from: stamp, stamp: stamped,
                                    container: observed.containers[service.name]))
    }

    /// `before-upgrade-15-17`, or with several services `before-upgrade-15-17-10.11-11.8`.
    static func upgradeSnapshotPrefix(_ versions: [(String, String)]) -> String {
        var parts: [String] = []
        for (from, to) in versions where !parts.contains("\(from)-\(to)") { parts.append("\(from)-\(to)") }
        return "before-upgrade-" + parts.joined(separator: "-")
    }

    /// `up` when services' data needs an upgrade: a snapshot of everything first; each upgrade on a copy, side by side;
    /// one switch; then the containers and update steps as `up` plans them from the upgraded state. When any upgrade
    /// fails, every one is abandoned: each service is back on its old data and its old server.
    func upgrade(_ upgrades: [DataUpgrade], _ observed: ObservedState) -> Plan {
        var problems: [Plan.Problem] = []
        var extra: [ResolvedImage] = []
        for image in upgrades.filter({ $0.old != nil }).flatMap({ $0.service.version(for: $0.from)?.images ?? [] })
        where !sandbox.images.contains(where: { $0.tag == image.tag }) && !extra.contains(where: { $0.tag == image.tag }) {
            extra.append(image)
        }
        var b = PlanBuilder()
        let start = begin(observed, &b)
        let images = addImages(imageActions(currentImages(observed), registry: observed.registry, images: sandbox.images + extra), after: start, &b)
        var name = String(Self.upgradeSnapshotPrefix(upgrades.map { ($0.fromVersion, $0.toVersion) }).prefix(56))
        if observed.snapshotNames.contains(name) {
            let base = name
            name = (2...).lazy.map { "\(base)-\($0)" }.first { !observed.snapshotNames.contains($0) } ?? base
        }
        let running = dataContainers(observed).filter(\.running)
        let upgrading = Set(upgrades.map(\.service.name))
        let saved = snapshot(name, running: running, restart: running.filter { !upgrading.contains($0.service) }, after: start, &b)
        var upgraded: [Int] = []
        for upgrade in upgrades {
            let bytes = observed.dataSizes[upgrade.service.name] ?? 0
            let needs = ([upgrade.service.imageTag] + (upgrade.old.map { [$0.imageTag] } ?? [])).compactMap { images[$0] }
            upgraded.append(b.add(.init(target: .service(upgrade.service.name), kind: .upgradeData(upgrade),
                                        cause: "\(upgrade.summary); about \(DataUpgrade.estimate(method: upgrade.method, bytes: bytes)) s "
                                            + "for \(DiskUsage.format(bytes)); the old data is not touched"),
                                  after: [saved] + needs))
        }
        let switched = b.add(.init(target: .instance(layout.instance), kind: .switchData(services: upgrades.map(\.service.name)),
                                   cause: "the upgraded data replaces the old in one step"), after: upgraded)
        for upgrade in upgrades {
            b.add(.init(target: .service(upgrade.service.name), kind: .abandonUpgrade(upgrade),
                        cause: "an upgrade failed: its staged result is deleted and the \(upgrade.fromVersion) server runs again on the old data"),
                  onFailureOf: upgraded)
        }
        var after = observed
        after.dataReplaced = upgrading
        for upgrade in upgrades {
            after.dataDirs[upgrade.service.name] = .ready(upgrade.stamp)
            if var container = after.containers[upgrade.service.name] {
                container.running = false
                container.state = "exited"
                after.containers[upgrade.service.name] = container
            }
        }
        let ends = addServices(after, after: [switched], images: images, &b, problems: &problems)
        b.add(.init(target: .instance(layout.instance), kind: .deleteReplacedData(services: upgrades.map(\.service.name)),
                    cause: "the old data is kept in snapshot '\(name)'"), after: ends, bestEffort: true)
        finish(after, up: true, &b)
        return b.plan(problems: problems, ports: ports(after))
    }
}
