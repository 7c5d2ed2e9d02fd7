import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve
import SandboxPlan
import SandboxOutput
import SandboxApply

/// A checkout with its recipes read: what every command starts from.
package struct Workspace: Sendable {
    package var checkout: Checkout
    package var recipes: RecipeSet
    package var docker: Docker

    /// Finds the checkout from `path` (or the current folder) and reads its recipes.
    package static func load(path: String?, docker: Docker = Docker()) throws(SandboxError) -> Workspace {
        let start = URL(fileURLWithPath: path ?? FileManager.default.currentDirectoryPath)
        let checkout = try Checkout.find(from: start)
        try DataStore(checkout: checkout).ensureMounted()
        return Workspace(checkout: checkout, recipes: try RecipeSet.load(checkout), docker: docker)
    }

    /// Resolves one sandbox; recipe problems are thrown as `RecipeErrors`.
    package func resolve(_ name: String?) throws -> ResolvedSandbox {
        if !recipes.diagnostics.isEmpty {
            // Only the named sandbox's problems (and its images') block it; report them all, resolver's included.
            let check = try RecipeCheck(recipes, only: name)
            if !check.diagnostics.isEmpty { throw check.errors }
        }
        let recipe = try recipes.sandbox(named: name)
        return try Resolver(recipes).resolve(recipe)
    }

    /// The instance `instance` of sandbox `name`. Left out, the sandbox is the one the instance was made from (or the
    /// only one); an instance made from another sandbox is refused, never mixed.
    package func instance(sandbox name: String?, instance: String) throws -> Instance {
        let layout = try self.layout(instance)
        let owner = InstanceState.read(layout)?.sandbox
        let resolved = try resolve(name ?? (recipes.sandboxes.count > 1 ? owner : nil))
        if let owner, !owner.isEmpty, owner != resolved.name {
            throw Messages.wrongSandbox(instance: instance, owner: owner, asked: resolved.name)
        }
        return Instance(docker: docker, layout: layout, sandbox: resolved, images: imageProvider)
    }

    /// What `down` or `destroy` would do; changes nothing.
    package func planRemoval(instance: String, _ operation: InstanceOperation) async throws(SandboxError) -> Plan {
        let layout = try self.layout(instance)
        return Planner.removal(operation, layout: layout, try await Observer(docker: docker, layout: layout).observe(nil, for: operation))
    }

    /// `down` and `destroy` from the instance's labels and folder alone, so they work whatever state the recipes
    /// are in (after a pull that broke one, a person can still stop and remove their instance). Under the lock.
    @discardableResult
    package func remove(instance: String, sandbox: String? = nil, _ operation: InstanceOperation, reporter: any ProgressReporter,
                       wait: Bool = true) async throws(SandboxError) -> Plan {
        let layout = try self.layout(instance)
        if let sandbox, let owner = InstanceState.read(layout)?.sandbox, !owner.isEmpty, owner != sandbox {
            throw Messages.wrongSandbox(instance: instance, owner: owner, asked: sandbox)
        }
        let lock = try await layout.lock(wait: wait, reporter: reporter)
        defer { withExtendedLifetime(lock) {} }
        try await layout.checkEngine(docker)
        let observed = try await Observer(docker: docker, layout: layout).observe(nil, for: operation)
        let plan = Planner.removal(operation, layout: layout, observed)
        try await Executor(docker: docker, layout: layout, sandbox: nil, images: imageProvider, reporter: reporter).apply(plan)
        return plan
    }

    /// Where an instance keeps its state; the one place an instance name is checked.
    package func layout(_ instance: String) throws(SandboxError) -> InstanceLayout {
        try InstanceLayout.validate(instance: instance)
        return InstanceLayout(checkout: checkout, instance: instance)
    }

    /// Names of the checkout's running containers (any instance, golden ones included); none when the engine is down.
    package static func runningContainers(_ checkout: Checkout, docker: Docker = Docker()) async throws(SandboxError) -> [String] {
        guard let out = try? await docker.run(.listContainers(labels: [Label.checkout: checkout.id])) else { return [] }
        return out.stdout.split(separator: "\n").compactMap { line in
            guard let ps = try? JSONDecoder().decode(Observer.PSLine.self, from: Data(line.utf8)), ps.State == "running" else { return nil }
            return ps.Names
        }
    }

    /// Instance names found under `.sandbox/`: folders with an instance's record, or with snapshots of one.
    package var instanceNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkout.stateDirectory.path)) ?? []
        return names.filter { name in
            let folder = checkout.stateDirectory.appendingPathComponent(name)
            return name != "golden" && name != "images" && !name.hasPrefix(".") && (try? InstanceLayout.validate(instance: name)) != nil
                && (FileSystem.exists(folder.appendingPathComponent("instance.json")) || FileSystem.exists(folder.appendingPathComponent("snapshots")))
        }.sorted()
    }

    /// Whether the instance has a data dir (a folder of its own that is not its logs, run files or snapshots).
    package func hasData(_ layout: InstanceLayout) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []
        return names.contains { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && !["logs", "run", "snapshots"].contains(name)
                && FileManager.default.fileExists(atPath: layout.root.appendingPathComponent(name).path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// The images part of `up`: bases and recipe builds on the real engine.
    package var imageProvider: any ImageProviding { ImageBuilder(docker: docker, stateDirectory: checkout.stateDirectory, checkout: checkout) }
}

extension Workspace {
    /// `sandbox psql ...` means `sandbox client psql ...` when an image recipe offers a client named psql.
    /// Returns the arguments to parse; unchanged when the first word is a command or names no client.
    package static func expandClientShortcut(_ arguments: [String], commands: [String]) -> [String] {
        guard let first = arguments.first, !first.hasPrefix("-"), !commands.contains(first),
              let workspace = try? Workspace.load(path: nil),
              workspace.recipes.images.values.contains(where: { $0.service?.client?.name == first }) else { return arguments }
        return ["client"] + arguments
    }
}
