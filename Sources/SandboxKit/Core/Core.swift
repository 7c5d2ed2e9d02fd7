import Foundation
import Synchronization
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput
import SandboxNotify
import SandboxOperations

/// The typed operations behind both front doors: the command line (`Sources/sandbox/`) and `sandbox serve`.
///
/// Each operation takes what a person names (a checkout, a sandbox, an instance), does its work in this process
/// under the instance lock where it changes anything, and returns a Codable result (``UpResult``, ``InstanceStatus``,
/// …). What a changing operation did is sent as a notification from here, whichever door asked. Neither door parses
/// the other's output: the CLI prints these objects, `serve` sends them.
package struct Core: Sendable {
    /// The checkout (nil: the nearest folder upwards from the current one with `Recipes/`).
    package var checkoutPath: String?
    /// The `sandbox` binary that delivers notifications in the background (`sandbox notify-deliver`).
    package var executable: String
    /// The engine each operation talks to: the docker CLI, or in unit tests a fake engine.
    package var engine: @Sendable () -> Docker
    /// How a lease pool is refilled after a lease (`serve` sets `.task`).
    package var leaseRefill: LeaseRefill = .process

    package init(checkout: String?, executable: String, engine: @escaping @Sendable () -> Docker = { Docker() }) {
        checkoutPath = checkout
        self.executable = executable
        self.engine = engine
    }

    /// Which instance an operation acts on.
    package struct Target: Sendable {
        /// The sandbox; nil: the one the instance was made from, or the only one in `Recipes/`.
        package var sandbox: String?
        package var instance: String
        /// With `--registry`: images and golden data the registry has are pulled instead of built.
        package var registry: Registry?
        /// With `--live` (true) or `--no-live` (false): whether services mount their `live` folder; nil keeps it as it was.
        package var live: Bool?
        /// With `--repair`: state files that cannot be read are set aside and recorded anew.
        package var repair = false

        package init(sandbox: String? = nil, instance: String, registry: Registry? = nil) {
            self.sandbox = sandbox
            self.instance = instance
            self.registry = registry
        }
    }

    /// The checkout with its recipes read. A fresh `Docker` each time, so one operation's call count is its own.
    package func workspace() throws(SandboxError) -> Workspace { try Workspace.load(path: checkoutPath, docker: engine()) }

    func instance(_ target: Target, in workspace: Workspace) throws -> Instance {
        var instance = try workspace.instance(sandbox: target.sandbox, instance: target.instance)
        instance.registry = target.registry
        instance.planner.live = target.live
        instance.planner.repair = target.repair
        return instance
    }

    func events(_ workspace: Workspace) -> Notifications { Notifications(workspace.checkout, executable: executable) }

    // MARK: - Reading

    /// `status`: each service's state and URL (passwords masked unless `secrets`).
    package func status(_ target: Target, secrets: Bool = false) async throws -> InstanceStatus {
        let instance = try instance(target, in: try workspace())
        return InstanceStatus(instance: instance.layout.instance, sandbox: instance.sandbox.name,
                              services: try await instance.status(secrets: secrets), commit: try InstanceState.load(instance.layout)?.commit)
    }

    /// `ls`: every instance of the checkout, from one `docker ps`: those with containers, data or snapshots (a first `up`
    /// that failed before making anything leaves none to list), with the number of snapshots each keeps; an instance
    /// whose record cannot be read is listed with the problem.
    package func list(secrets: Bool = false) async throws -> InstanceList {
        let workspace = try workspace()
        let names = workspace.instanceNames
        guard !names.isEmpty else { return InstanceList(instances: []) }
        let containers = try await Observer.containersByInstance(checkout: workspace.checkout, docker: workspace.docker)
        var instances: [InstanceStatus] = []
        // Each sandbox is resolved once (its files hashed once), not once per instance: forty instances, one resolve.
        var resolved: [String: ResolvedSandbox?] = [:]
        for name in names {
            let layout = try workspace.layout(name)
            let snapshots = SnapshotStore(layout: layout).list()
            var problem: String?
            var state: InstanceState?
            do { state = try InstanceState.load(layout) } catch { problem = "\(error.message); \(error.fix ?? "")" }
            let mine = containers[name] ?? [:]
            guard !mine.isEmpty || workspace.hasData(layout) || !snapshots.isEmpty || problem != nil else { continue }
            let owner = state?.sandbox ?? snapshots.first?.sandbox ?? ""
            if resolved[owner] == nil {
                resolved[owner] = .some(try? workspace.resolve(workspace.recipes.sandboxes.count > 1 && !owner.isEmpty ? owner : nil))
            }
            guard let sandbox = resolved[owner] ?? nil, owner.isEmpty || owner == sandbox.name else { continue }
            let instance = Instance(docker: workspace.docker, layout: layout, sandbox: sandbox, images: workspace.imageProvider)
            let services = (try? await instance.status(observed: mine, secrets: secrets)) ?? []
            instances.append(InstanceStatus(instance: name, sandbox: instance.sandbox.name, services: services, commit: state?.commit,
                                            snapshots: snapshots.count, problem: problem))
        }
        return InstanceList(instances: instances)
    }

    /// `layout` (hidden): where the instance keeps what, and the labels of its containers, for harnesses.
    package func layout(_ target: Target) throws -> LayoutDescription {
        let workspace = try workspace()
        let instance = try instance(target, in: workspace)
        let labels = ["checkout": Label.checkout, "checkoutPath": Label.checkoutPath, "instance": Label.instance, "service": Label.service,
                      "role": Label.role, "sandbox": Label.sandbox, "checkoutID": workspace.checkout.id]
        return LayoutDescription(instance.layout, sandbox: instance.sandbox.name, services: instance.sandbox.services.filter(\.hasData).map(\.name),
                                 snapshotRecord: SnapshotInfo.fileName, dataStamp: DataStamp.fileName, labels: labels)
    }

    /// `gc`: golden copies and images of recipe versions the checkout no longer uses (`GarbageCollector` says which).
    package func gc(dryRun: Bool) async throws -> GCResult {
        let items = try await GarbageCollector(workspace: try workspace()).collect(dryRun: dryRun)
        return GCResult(dryRun: dryRun, items: items, freedBytes: items.filter(\.removed).reduce(0) { $0 + $1.bytes })
    }

    /// The image tags only this worktree uses (a linked worktree's application images, `…-<checkout id>`), removed when
    /// a preview goes; the engine keeps an image a container still runs. Returns the tags removed.
    package func removeOwnImages() async throws -> [String] {
        let workspace = try workspace()
        let suffix = "-" + workspace.checkout.id
        var removed: [String] = []
        for recipe in workspace.recipes.sandboxes {
            for tag in try workspace.resolve(recipe.name).imageTags where tag.hasSuffix(suffix) && !removed.contains(tag) {
                if try await workspace.docker.run(.removeImage(tag), check: false).status == 0 { removed.append(tag) }
            }
        }
        return removed
    }

    /// `env`: the exported variables, as written to `.sandbox/<instance>/env`.
    package func environment(_ target: Target) throws -> [(String, String)] {
        try instance(target, in: try workspace()).environment()
    }

    /// `plan`: what `operation` would do now, and why; changes nothing.
    package func plan(_ target: Target, _ operation: InstanceOperation = .up) async throws -> PlanResult {
        let workspace = try workspace()
        switch operation {
        case .down, .destroy: return PlanResult(try await workspace.planRemoval(instance: target.instance, operation))
        default: return PlanResult(try await instance(target, in: workspace).plan(operation))
        }
    }

    /// `snapshot ls`.
    package func snapshots(_ target: Target) throws -> SnapshotList {
        let instance = try instance(target, in: try workspace())
        return SnapshotList(snapshots: instance.snapshots().map { SnapshotEntry(info: $0, usage: instance.snapshotUsage($0.name)) })
    }

    // MARK: - Changing

    /// `up`: install or update, keeping data. A change (or a failure) is sent as a notification.
    package func up(_ target: Target, secrets: Bool = false, wait: Bool = true, reporter: any ProgressReporter) async throws -> UpResult {
        let workspace = try workspace()
        let events = events(workspace)
        var resolved: String?
        do {
            let instance = try instance(target, in: workspace)
            resolved = instance.sandbox.name
            let (plan, unchanged) = try await instance.up(reporter: reporter, wait: wait)
            let calls = instance.docker.callCount
            let (shown, masked) = try await result(instance, changed: !plan.isNoOp, dockerCalls: calls, observed: unchanged, secrets: secrets)
            if shown.changed { await events.send(.up, masked, instance: masked.instance) }
            return shown
        } catch {
            await events.failed(.upFailed, error, instance: target.instance, sandbox: resolved ?? target.sandbox)
            throw error
        }
    }

    /// `reset`: back to the freshly set-up state.
    package func reset(_ target: Target, secrets: Bool = false, wait: Bool = true, reporter: any ProgressReporter) async throws -> UpResult {
        let workspace = try workspace()
        let instance = try instance(target, in: workspace)
        try await instance.reset(reporter: reporter, wait: wait)
        let (shown, masked) = try await result(instance, changed: true, secrets: secrets)
        await events(workspace).send(.reset, masked, instance: masked.instance)
        return shown
    }

    /// `snapshot restore`: the data replaced by a snapshot's.
    package func restore(_ target: Target, snapshot: String, secrets: Bool = false, wait: Bool = true,
                        reporter: any ProgressReporter) async throws -> UpResult {
        let workspace = try workspace()
        let instance = try instance(target, in: workspace)
        try await instance.restoreSnapshot(snapshot, reporter: reporter, wait: wait)
        let (shown, masked) = try await result(instance, changed: true, secrets: secrets)
        await events(workspace).send(.snapshotRestored, masked, instance: masked.instance)
        return shown
    }

    /// `down`: containers stopped and removed, data kept. Works whatever state the recipes are in.
    package func down(_ target: Target, wait: Bool = true, reporter: any ProgressReporter) async throws -> RemovalResult {
        let workspace = try workspace()
        let plan = try await workspace.remove(instance: target.instance, sandbox: target.sandbox, .down, reporter: reporter, wait: wait)
        let result = RemovalResult(instance: target.instance, removed: plan.removedServices)
        if !plan.isNoOp { await events(workspace).send(.down, result, instance: target.instance) }
        return result
    }

    /// `destroy`: containers removed and, with `deleteData`, the instance's data, state and secrets.
    package func destroy(_ target: Target, deleteData: Bool, wait: Bool = true, reporter: any ProgressReporter) async throws -> RemovalResult {
        let workspace = try workspace()
        let plan = try await workspace.remove(instance: target.instance, sandbox: target.sandbox, .destroy(deleteData: deleteData),
                                              reporter: reporter, wait: wait)
        let result = RemovalResult(instance: target.instance, removed: plan.removedServices, deletedData: deleteData)
        if !plan.isNoOp { await events(workspace).send(.destroy, result, instance: target.instance) }
        return result
    }

    /// `restart`: services stopped cleanly and started again (a live folder's edits, a changed environment).
    package func restart(_ target: Target, services: [String], secrets: Bool = false, wait: Bool = true,
                         reporter: any ProgressReporter) async throws -> UpResult {
        let workspace = try workspace()
        let instance = try instance(target, in: workspace)
        for name in services { _ = try instance.service(named: name) }
        try await instance.perform(.restart(services: services), reporter: reporter, wait: wait)
        return try await result(instance, changed: true, secrets: secrets).shown
    }

    /// `snapshot save`.
    package func saveSnapshot(_ target: Target, name: String, wait: Bool = true, reporter: any ProgressReporter) async throws -> SnapshotSaved {
        let instance = try instance(target, in: try workspace())
        let info = try await instance.saveSnapshot(name, reporter: reporter, wait: wait)
        return SnapshotSaved(instance: instance.layout.instance, sandbox: instance.sandbox.name, snapshot: info.name,
                             services: info.services.keys.sorted())
    }

    /// `snapshot delete`: frees what the snapshot alone holds.
    package func deleteSnapshot(_ target: Target, name: String, wait: Bool = true, reporter: any ProgressReporter) async throws -> SnapshotDeleted {
        let instance = try instance(target, in: try workspace())
        let usage = try await instance.deleteSnapshot(name, reporter: reporter, wait: wait)
        return SnapshotDeleted(instance: instance.layout.instance, snapshot: name, freedBytes: usage.exclusiveBytes)
    }

    /// `build`: builds or confirms every image the sandbox needs.
    package func build(_ target: Target, reporter: any ProgressReporter) async throws -> BuildResult {
        let instance = try instance(target, in: try workspace())
        let built = try await instance.build(reporter: reporter)
        return BuildResult(sandbox: instance.sandbox.name, images: instance.sandbox.images.map {
            BuildResult.Image(tag: $0.tag, built: built.contains($0.tag), hash: $0.hash)
        })
    }

    /// The result as shown (`secrets`: passwords in clear) and as notifications carry it (always masked).
    func result(_ instance: Instance, changed: Bool, dockerCalls: Int? = nil, observed: [String: ObservedContainer]? = nil,
                secrets: Bool) async throws(SandboxError) -> (shown: UpResult, masked: UpResult) {
        let containers: [String: ObservedContainer]
        if let observed { containers = observed } else { containers = try await instance.observer.containers() }
        let envFile = instance.layout.checkout.display(instance.layout.envFile.path)
        let masked = UpResult(instance: instance.layout.instance, sandbox: instance.sandbox.name, changed: changed, dockerCalls: dockerCalls,
                              services: try await instance.status(observed: containers), envFile: envFile)
        guard secrets else { return (masked, masked) }
        var shown = masked
        shown.services = try await instance.status(observed: containers, secrets: true)
        return (shown, masked)
    }
}

extension Plan {
    /// The services whose containers the plan removes.
    package var removedServices: [String] {
        actions.compactMap { if case let .removeContainer(c, _) = $0.kind { return c.service } else { return nil } }
    }
}

/// The events an operation sends once it changed an instance (docs/notifications.md). Nothing here can change the
/// operation's result: it throws nothing and hands delivery to a background process.
struct Notifications {
    let notifier: Notifier?

    init(_ checkout: Checkout, executable: String) {
        let config = NotifyConfig.load()
        notifier = config.isEnabled
            ? Notifier(checkout: checkout, deliverer: [executable, "notify-deliver", "--checkout", checkout.root.path], config: config)
            : nil
    }

    /// A result object as the event `kind`.
    func send<T: Encodable>(_ kind: NotifyEvent.Kind, _ result: T, instance: String) async {
        guard let notifier else { return }
        await notifier.send(kind, result: JSONLine.data(result), instance: instance)
    }

    /// A failure as the event `kind`: its `error` object (code, message, fix), and which instance of which sandbox.
    func failed(_ kind: NotifyEvent.Kind, _ error: any Error, instance: String, sandbox: String?) async {
        guard let notifier, var event = ErrorEvent(error) else { return }
        event.instance = instance
        event.sandbox = sandbox
        await notifier.send(kind, result: JSONLine.data(event), instance: instance)
    }
}

extension Core {
    /// The last `tail` lines of a service's output (standard output and error as they came).
    package func logs(_ target: Target, service: String, tail: Int) async throws -> LogLines {
        let (instance, container) = try await logContainer(target, service)
        let lines = LineCollector()
        _ = try await instance.docker.stream(.logs(container, tail: tail)) { lines.append($0) }
        return LogLines(service: service, lines: lines.lines)
    }

    /// The last `tail` lines, then each new one, until the task is cancelled or the container goes.
    package func followLogs(_ target: Target, service: String, tail: Int, line: @escaping @Sendable (String) -> Void) async throws {
        let (instance, container) = try await logContainer(target, service)
        _ = try await instance.docker.stream(.logs(container, tail: tail, follow: true), line: line)
    }

    /// The service's container: an unknown service, or one that has no container, is an error that says what to do.
    func logContainer(_ target: Target, _ service: String) async throws -> (Instance, String) {
        let instance = try instance(target, in: try workspace())
        _ = try instance.service(named: service)
        guard let container = try await instance.observer.containers()[service] else {
            throw SandboxError(.notRunning, "service \(service) of instance '\(target.instance)' has no container, so no logs",
                               fix: "start it: `\(Messages.up(target.instance))`")
        }
        return (instance, container.name)
    }
}

/// A service's log lines.
package struct LogLines: Codable, Sendable, Equatable {
    package var service: String
    package var lines: [String]
}

/// Lines gathered from a stream's callback.
final class LineCollector: Sendable {
    private let store = Mutex<[String]>([])
    func append(_ line: String) { store.withLock { $0.append(line) } }
    var lines: [String] { store.withLock { $0 } }
}
