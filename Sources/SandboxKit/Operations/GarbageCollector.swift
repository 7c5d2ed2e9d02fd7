import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// `sandbox gc`: what recipe versions no longer in the checkout left behind, and nothing else.
///
/// - Golden copies in `.sandbox/golden/` that none of the checkout's sandboxes, as its recipes are now, would copy from
///   (a recipe's setup steps or image changed since they were made). Each goes under its own lock, so one an `up` is
///   making is left alone; it is renamed aside first, so a killed `gc` leaves a `.…-deleting` folder the next one removes,
///   never half a golden copy.
/// - Images sandbox built whose tag a newer build took (`<none>` in `docker images`, with sandbox's label) and that no
///   container, of any checkout, was made from: nothing can run them again by name. Their size is the disk only they
///   take (`docker system df -v`). The engine refuses to remove one a container was made from meanwhile: that is kept.
///
/// Snapshots are people's saved data: never collected. Instances' data dirs are theirs: never collected.
package struct GarbageCollector: Sendable {
    package var workspace: Workspace

    package init(workspace: Workspace) { self.workspace = workspace }

    /// One thing `gc` removes (or would, with `--dry-run`).
    package struct Item: Codable, Sendable, Equatable {
        package var kind: String  // "golden" or "image"
        package var name: String
        package var bytes: Int64
        package var reason: String
        package var removed: Bool
    }

    /// The golden copies the checkout's sandboxes copy from now, and those of every other worktree of its repository
    /// (they share one golden folder: a preview of a branch copies from it). Recipe errors in the checkout stop `gc` (it
    /// cannot tell what is used); another worktree whose recipes cannot be read makes it keep every golden copy (nil).
    func goldenInUse() throws -> Set<String>? {
        var names = try Self.goldenNames(workspace)
        let checkout = workspace.checkout
        let main = Checkout.mainWorktree(of: checkout.root) ?? checkout.root
        for root in [main] + Checkout.linkedWorktrees(of: main) where root.standardizedFileURL.path != checkout.root.path {
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent("Recipes").path) else { continue }
            guard let other = try? Workspace.load(path: root.path), let used = try? Self.goldenNames(other) else { return nil }
            names.formUnion(used)
        }
        return names
    }

    static func goldenNames(_ workspace: Workspace) throws -> Set<String> {
        var names: Set<String> = []
        let layout = InstanceLayout(checkout: workspace.checkout, instance: "gc")
        for recipe in workspace.recipes.sandboxes {
            for service in try workspace.resolve(recipe.name).services {
                names.insert(layout.golden(service: service.lendsFor ?? service.name, freshHash: service.freshHash).lastPathComponent)
            }
        }
        return names
    }

    /// What would go, in a stable order: golden copies, then images.
    package func candidates() async throws -> [Item] {
        let used = try goldenInUse()
        let root = workspace.checkout.goldenRoot
        var items: [Item] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() where !name.hasPrefix(".") {
            guard let used else { break }
            // A copy made per instance is named after the shared one, with "-<instance>" after it.
            guard !used.contains(where: { name == $0 || name.hasPrefix($0 + "-") || name.hasPrefix($0 + ".") }) else { continue }
            let bytes = DiskUsage.of(root.appendingPathComponent(name)).bytes
            items.append(Item(kind: "golden", name: name, bytes: bytes, reason: "no sandbox in Recipes/ (of any worktree) copies from it now", removed: false))
        }
        let dangling = try await workspace.docker.run(.danglingImages).stdout.split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(ImageLine.self, from: Data($0.utf8)) }
        guard !dangling.isEmpty else { return items }
        let usage = try await workspace.docker.run(.imagesDiskUsage).stdout
        let known = (try? JSONDecoder().decode([ImageUsage].self, from: Data(usage.utf8))) ?? []
        let byID = Dictionary(known.map { (Self.shortID($0.ID), $0) }, uniquingKeysWith: { a, _ in a })
        for image in dangling {
            // Unknown to the disk usage (made meanwhile) or made into a container: kept.
            guard let found = byID[Self.shortID(image.ID)], found.Containers == "0" else { continue }
            items.append(Item(kind: "image", name: Self.shortID(image.ID), bytes: DiskUsage.parse(found.UniqueSize) ?? 0,
                              reason: "a newer build took its tag; no container was made from it", removed: false))
        }
        return items
    }

    /// Removes the candidates (with `dryRun`, only lists them). Each golden copy under its lock; each image by the engine,
    /// which keeps one a container was made from meanwhile.
    package func collect(dryRun: Bool) async throws -> [Item] {
        var items = try await candidates()
        guard !dryRun else { return items }
        let root = workspace.checkout.goldenRoot
        // What a killed gc left renamed aside.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] where name.hasPrefix(".") && name.hasSuffix("-deleting") {
            try? FileSystem.remove(root.appendingPathComponent(name))
        }
        for index in items.indices {
            let item = items[index]
            if item.kind == "golden" {
                guard let lock = try FileLock.attempt(root.appendingPathComponent(".\(item.name).lock")) else { continue }
                defer { withExtendedLifetime(lock) {} }
                let aside = root.appendingPathComponent(".\(item.name)-deleting")
                try FileSystem.move(root.appendingPathComponent(item.name), to: aside)
                try FileSystem.remove(aside)
                try? FileSystem.remove(root.appendingPathComponent(".\(item.name).lock"))
                items[index].removed = true
            } else {
                let out = try await workspace.docker.run(.removeImage(item.name), check: false)
                items[index].removed = out.status == 0
            }
        }
        return items
    }

    struct ImageLine: Decodable { var ID: String }
    struct ImageUsage: Decodable { var ID: String; var UniqueSize: String; var Containers: String }

    /// `sha256:0123…` and `0123…` alike, as the first 12 hex digits `docker images` shows.
    static func shortID(_ id: String) -> String {
        String((id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id).trimmingCharacters(in: .whitespaces).prefix(12))
    }
}
