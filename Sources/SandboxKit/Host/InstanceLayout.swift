import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine

/// Where one instance keeps its state under the checkout's `.sandbox/`.
package struct InstanceLayout: Sendable, Equatable {
    package var checkout: Checkout
    package var instance: String

    package init(checkout: Checkout, instance: String) {
        self.checkout = checkout
        self.instance = instance
    }

    /// Instance names become folder and container names.
    package static func validate(instance: String) throws(SandboxError) {
        let ok = !instance.isEmpty && instance.count <= 40 && instance.first.map { $0.isLetter || $0.isNumber } == true
            && instance.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
        if !ok || instance == "golden" {
            throw SandboxError(.invalidName, "'\(instance)' is not a usable instance name",
                               fix: "use lower-case letters, digits, '-' and '_' (up to 40), like 'dev' or 'shard-3'; 'golden' is reserved")
        }
    }

    package var root: URL { checkout.stateDirectory.appendingPathComponent(instance) }
    package func dataDir(_ service: String) -> URL { root.appendingPathComponent(service) }
    package func staging(_ service: String) -> URL { root.appendingPathComponent(".\(service).staging") }
    package var stateFile: URL { root.appendingPathComponent("instance.json") }
    package var envFile: URL { root.appendingPathComponent("env") }
    package var logs: URL { root.appendingPathComponent("logs") }
    package var secretsFile: URL { root.appendingPathComponent("secrets.json") }
    /// Outside the instance's folder, so deleting the instance never deletes the lock someone holds.
    package var lockFile: URL { checkout.stateDirectory.appendingPathComponent(".locks").appendingPathComponent("\(instance).lock") }
    /// Written before `destroy --delete-data` deletes anything: its presence means "finish the deletion".
    package var deletionJournal: URL { lockFile.deletingPathExtension().appendingPathExtension("deleting") }
    /// Written when staged data is about to replace the current data: its presence means "finish the switch".
    package var switchJournal: URL { root.appendingPathComponent(".switch.json") }
    package func replaced(_ service: String) -> URL { root.appendingPathComponent(".\(service).replaced") }
    /// An upgrade's working folder: the copy of the old data the old server dumps.
    package func upgradeWork(_ service: String) -> URL { root.appendingPathComponent(".\(service).upgrade") }
    /// What a command that was killed leaves beside a data dir: `.<service>` and one of these (and temporary files).
    package static let leftoverSuffixes = [".staging", ".replaced", ".upgrade"]
    package var snapshots: URL { root.appendingPathComponent("snapshots") }
    /// The bookkeeping of a service's leases (which copies are being made, ready, lent, being dropped).
    package func leases(_ service: String) -> URL { root.appendingPathComponent("leases").appendingPathComponent(service) }
    /// A service's run folder, mounted at /run/sandbox: its environment file (0600), and for a service without data
    /// its readiness marker. Made anew for every container, holding nothing that must be kept.
    package func runDir(_ service: String) -> URL { root.appendingPathComponent("run").appendingPathComponent(service) }
    /// The script the service's entry script runs once, before it marks the service ready (see `EntryScript`): the
    /// instance's own password for a fresh copy, written before its container starts, deleted once stamped.
    package func onceScript(_ service: String) -> URL { runDir(service).appendingPathComponent("once") }
    /// Where a service's readiness marker is written: its data dir, or its run folder when it keeps no data.
    package func stateFolder(_ service: ResolvedService) -> URL { service.hasData ? dataDir(service.name) : runDir(service.name) }

    /// The instance's own network: its services reach each other by name on it, and no other instance's can.
    package func network(sandbox: String) -> String { containerName(sandbox: sandbox, [instance]) }

    /// Golden data dirs, shared by every instance of the checkout (and every worktree of its repository), keyed by what a
    /// fresh data dir depends on.
    package var goldenRoot: URL { checkout.goldenRoot }
    package func golden(service: String, freshHash: String) -> URL {
        goldenRoot.appendingPathComponent("\(service)-\(freshHash.prefix(16))")
    }

    /// The service's golden data dir. Setup steps that depend on the instance (`{instance}`, its ports,
    /// `{env.X}`) make the set-up data differ per instance, so then each instance has its own.
    package func golden(_ service: ResolvedService) -> URL {
        // A lease server starts from the golden copy of the service it lends for.
        let shared = golden(service: service.lendsFor ?? service.name, freshHash: service.freshHash)
        guard service.setup.contains(where: \.perInstance) else { return shared }
        // The golden folder is shared by the repository's worktrees: a linked worktree's own copy names its checkout too
        // ('.' is in no instance name), so its `dev` never copies the main worktree's `dev`.
        let owner = checkout.goldenRoot.path == checkout.stateDirectory.appendingPathComponent("golden").path ? "" : "." + checkout.id
        return URL(fileURLWithPath: shared.path + owner + "-" + instance)
    }

    /// `sbx-<sandbox>-<checkout id>-<instance>-<service>`: unique per checkout, readable in `docker ps`.
    package func containerName(sandbox: String, service: String) -> String { containerName(sandbox: sandbox, [instance, service]) }

    /// `sbx-<sandbox>-<checkout id>-<parts…>`: every container name sandbox makes is built here, so one checkout's
    /// names never collide with another's (helpers: `golden-…`, `golden-pull-…`, `<instance>-upgrade-…`).
    package func containerName(sandbox: String, _ parts: [String]) -> String {
        (["sbx", sandbox, checkout.id] + parts).joined(separator: "-")
    }

    /// The labels every container of this instance carries.
    package func labels(sandbox: String) -> [String: String] {
        [Label.sandbox: sandbox, Label.instance: instance, Label.checkout: checkout.id, Label.checkoutPath: checkout.root.path]
    }
}

/// The on-disk layout and labels of one instance, as `sandbox layout --json` prints them: what a harness (Scripts/soak)
/// inspects and damages, learned from the tool instead of written into the harness twice.
package struct LayoutDescription: Codable, Sendable, Equatable {
    package var event = "layout"
    package var instance: String
    package var stateDirectory: String
    package var golden: String
    package var root: String
    package var stateFile: String
    package var secretsFile: String
    package var envFile: String
    package var lockFile: String
    package var switchJournal: String
    package var snapshots: String
    package var snapshotRecord: String
    package var dataStamp: String
    package var leftoverSuffixes: [String]
    package var temporaryMarker: String
    package var services: [String: Service]
    package var labels: [String: String]

    package struct Service: Codable, Sendable, Equatable {
        package var dataDir: String
        package var staging: String
        package var replaced: String
        package var upgradeWork: String
        package var container: String
    }

    package init(_ layout: InstanceLayout, sandbox: String, services: [String], snapshotRecord: String, dataStamp: String, labels: [String: String]) {
        instance = layout.instance
        stateDirectory = layout.checkout.stateDirectory.path
        golden = layout.goldenRoot.path
        root = layout.root.path
        stateFile = layout.stateFile.path
        secretsFile = layout.secretsFile.path
        envFile = layout.envFile.path
        lockFile = layout.lockFile.path
        switchJournal = layout.switchJournal.path
        snapshots = layout.snapshots.path
        self.snapshotRecord = snapshotRecord
        self.dataStamp = dataStamp
        leftoverSuffixes = InstanceLayout.leftoverSuffixes
        temporaryMarker = ".tmp-"
        self.services = Dictionary(uniqueKeysWithValues: services.map { name in
            (name, Service(dataDir: layout.dataDir(name).path, staging: layout.staging(name).path, replaced: layout.replaced(name).path,
                           upgradeWork: layout.upgradeWork(name).path, container: layout.containerName(sandbox: sandbox, service: name)))
        })
        self.labels = labels
    }
}
