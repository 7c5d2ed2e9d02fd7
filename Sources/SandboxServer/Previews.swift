import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxNotify
import SandboxKit

/// `serve --previews`: a sandbox per branch. A push to a matching branch makes a preview (a git worktree of the branch
/// beside the checkout, detached at the pushed commit, and an instance named after the branch, which copies the golden
/// data the checkout's worktrees share) or updates it through `up`; a branch that is gone takes its preview, worktree
/// and data with it; a preview nobody pushed to or kept within its time to live is destroyed, after a warning.
///
/// Runs on one checkout never overlap and a burst coalesces, as for the branch follower. What it knows is kept in
/// `.sandbox/previews.json` of the checkout, so a restarted `serve` still knows (and cleans up) its previews.
package actor PreviewKeeper {
    package struct Preview: Codable, Sendable, Equatable {
        package var branch: String
        package var instance: String
        package var worktree: String
        /// The commit it runs (its last `up` that succeeded).
        package var commit: String?
        /// The commit being brought up, or the one that failed.
        package var wanted: String
        /// creating, updating, ready, failed, removing
        package var state: String
        package var reason: String?
        package var created: Date
        package var updated: Date?
        package var expires: Date
        package var warned = false
    }

    private let checkouts: [ServedCheckout]
    private let settings: PreviewSettings
    private let executable: String
    private let center: OperationCenter
    private let address: ServerAddress
    private let now: @Sendable () -> Date
    private var previews: [String: [Preview]] = [:]
    private var running: Set<String> = []
    private var pending: [String: Set<String>?] = [:]
    /// The branch and commit each refusal was sent for: one `preview-refused` per push, not one per poll.
    private var refused: [String: String] = [:]

    package init(checkouts: [ServedCheckout], settings: PreviewSettings, executable: String, center: OperationCenter,
                 address: ServerAddress, now: @escaping @Sendable () -> Date = { Date() }) {
        self.checkouts = checkouts; self.settings = settings; self.executable = executable; self.center = center
        self.address = address; self.now = now
        for checkout in checkouts { previews[checkout.id] = Self.load(checkout) }
    }

    // MARK: - Asking

    /// Whether `branch` of `checkout` gets a preview.
    package func wants(_ branch: String, checkout: ServedCheckout) -> Bool { settings.matches(branch, checkout: checkout.id) }

    /// Fetches and brings the previews of `checkout` in line with its remote: `branches` (pushed) made or updated, nil for
    /// every matching branch (a poll); every preview whose branch is gone removed. Returns at once.
    package func request(_ id: String, branches: Set<String>?) {
        guard checkouts.contains(where: { $0.id == id }) else { return }
        let merged: Set<String>? = switch (pending[id], branches) {
        case (nil, let given): given
        case (.some(nil), _), (_, nil): nil
        case let (.some(.some(old)), .some(new)): old.union(new)
        }
        pending[id] = .some(merged)
        guard !running.contains(id) else { return }
        running.insert(id)
        Task { await self.loop(id) }
    }

    /// Every preview, for the API: the served checkout's id, then its previews by branch.
    package func all() -> [(checkout: ServedCheckout, preview: Preview)] {
        checkouts.flatMap { checkout in (previews[checkout.id] ?? []).sorted { $0.branch < $1.branch }.map { (checkout, $0) } }
    }

    /// The worktree of the preview `id` (`<checkout>~<instance>`), as a checkout the API can address.
    package func checkout(_ id: String) -> ServedCheckout? {
        guard let (_, preview) = find(id) else { return nil }
        return ServedCheckout(id: id, root: URL(fileURLWithPath: preview.worktree))
    }

    /// "Keep": the preview lives another time to live from now.
    package func keep(_ id: String) throws(SandboxError) -> Preview {
        guard let (checkout, preview) = find(id) else { throw Self.unknown(id) }
        let kept = change(checkout, preview.branch) { $0.expires = now().addingTimeInterval(TimeInterval(settings.ttl)); $0.warned = false }
        save(checkout)
        return kept ?? preview
    }

    /// Removes a preview now (its branch stays; the next push to it makes it again).
    package func remove(_ id: String) async throws(SandboxError) {
        guard let (checkout, preview) = find(id) else { throw Self.unknown(id) }
        guard preview.state == "ready" || preview.state == "failed" else {
            throw SandboxError(.instanceBusy, "the preview of \(preview.branch) is \(preview.state)", fix: "remove it once that has finished")
        }
        await destroy(checkout, preview, reason: "removed by request")
    }

    /// Sends `preview-expiring` once for each preview near its end, and destroys those past it.
    package func expire() async {
        let date = now()
        for checkout in checkouts {
            // One being made or updated is left to finish: its push gave it a new time to live anyway.
            for preview in previews[checkout.id] ?? [] where preview.state == "ready" || preview.state == "failed" {
                if date >= preview.expires {
                    await destroy(checkout, preview, reason: "its time to live ran out at \(NotifyEvent.timestamp(preview.expires))")
                } else if !preview.warned && date >= preview.expires.addingTimeInterval(-TimeInterval(settings.warnBefore)) {
                    _ = change(checkout, preview.branch) { $0.warned = true }
                    await notify(.previewExpiring, checkout, preview, extra: ["reason": "it is destroyed at \(NotifyEvent.timestamp(preview.expires))",
                                                                              "fix": "press Keep on the page, or push to \(preview.branch)"])
                }
            }
        }
    }

    /// How often `expire` should run: often enough that a warning comes before the end.
    package var tick: Duration { .seconds(max(1, min(30, settings.warnBefore / 4))) }

    static func unknown(_ id: String) -> SandboxError {
        SandboxError(.notFound, "no preview '\(id)'", fix: "GET /api/v1/previews lists them")
    }

    // MARK: - Runs

    private func find(_ id: String) -> (ServedCheckout, Preview)? {
        for checkout in checkouts {
            if let preview = previews[checkout.id]?.first(where: { PreviewNames.id(checkout: checkout.id, instance: $0.instance) == id }) {
                return (checkout, preview)
            }
        }
        return nil
    }

    private func loop(_ id: String) async {
        while let entry = pending.removeValue(forKey: id), let checkout = checkouts.first(where: { $0.id == id }) {
            await reconcile(checkout, branches: entry)
        }
        running.remove(id)
    }

    private func reconcile(_ checkout: ServedCheckout, branches: Set<String>?) async {
        let git = Git(root: checkout.root)
        let own = await git.branch()
        let remote = (own != nil ? await git.remote(of: own!) : nil) ?? "origin"
        guard await git.run(["fetch", "--quiet", "--prune", remote]).ok, let remoteBranches = await git.remoteBranches(remote) else { return }
        // A branch that is gone takes its preview along.
        for preview in previews[checkout.id] ?? [] where remoteBranches[preview.branch] == nil {
            await destroy(checkout, preview, reason: "branch \(preview.branch) was deleted")
        }
        let wanted = remoteBranches.filter { settings.matches($0.key, checkout: checkout.id) && $0.key != own }
        for (branch, commit) in wanted.sorted(by: { $0.key < $1.key }) where branches?.contains(branch) ?? true {
            if let preview = previews[checkout.id]?.first(where: { $0.branch == branch }) {
                guard preview.state != "removing", preview.commit != commit || preview.state == "failed" else { continue }
                await bringUp(checkout, branch: branch, commit: commit, creating: false)
            } else if let reason = limitReached(checkout) {
                guard refused[checkout.id + "\n" + branch] != commit else { continue }
                refused[checkout.id + "\n" + branch] = commit
                let object: [String: Any] = ["branch": branch, "previewCommit": commit, "reason": reason.message, "fix": reason.fix ?? ""]
                await send(.previewRefused, checkout, object, instance: PreviewNames.instance(for: branch), commit: commit)
            } else {
                await bringUp(checkout, branch: branch, commit: commit, creating: true)
            }
        }
    }

    /// Why a new preview cannot be made now, or nil.
    private func limitReached(_ checkout: ServedCheckout) -> SandboxError? {
        let count = previews[checkout.id]?.count ?? 0
        if count >= settings.limit {
            return SandboxError(.badRequest, "\(checkout.id) has \(count) previews, the most it may have "
                                + "(--preview-limit \(settings.limit)); nothing was changed",
                                fix: "remove a preview on the page or delete its branch, or start serve with a higher --preview-limit")
        }
        let folder = checkout.root.deletingLastPathComponent().path
        let free = ((try? FileManager.default.attributesOfFileSystem(forPath: folder))?[.systemFreeSize] as? NSNumber)?.int64Value ?? .max
        if free < settings.diskFloor {
            return SandboxError(.badRequest, "only \(DiskUsage.format(free)) are free in \(folder), under the floor of "
                                + "\(DiskUsage.format(settings.diskFloor)) (--preview-disk-floor); nothing was changed",
                                fix: "free disk space (sandbox gc removes what no recipe uses), or remove previews")
        }
        return nil
    }

    /// Makes the worktree (or moves it to `commit`), then `up` of its instance as one operation.
    private func bringUp(_ checkout: ServedCheckout, branch: String, commit: String, creating: Bool) async {
        let instance = PreviewNames.instance(for: branch)
        let worktree = PreviewNames.folder(of: checkout.root).appendingPathComponent(instance)
        let date = now()
        if creating {
            let preview = Preview(branch: branch, instance: instance, worktree: worktree.path, commit: nil, wanted: commit, state: "creating",
                                  created: date, expires: date.addingTimeInterval(TimeInterval(settings.ttl)))
            previews[checkout.id, default: []].append(preview)
        }
        // Every push extends the time to live.
        _ = change(checkout, branch) { $0.state = creating ? "creating" : "updating"; $0.wanted = commit; $0.reason = nil
            $0.expires = date.addingTimeInterval(TimeInterval(settings.ttl)); $0.warned = false }
        save(checkout)
        let moved = await Self.place(worktree, of: checkout, at: commit)
        if let failure = moved { return await failed(checkout, branch, failure) }
        let id = PreviewNames.id(checkout: checkout.id, instance: instance)
        let core = Core(checkout: worktree.path, executable: executable)
        guard let op = try? await center.submit(kind: "up", checkout: id, instance: instance, job: { reporter in
            .up(try await core.up(Core.Target(instance: instance), reporter: reporter))
        }) else {
            return await failed(checkout, branch, "the instance \(instance) is busy with another operation")
        }
        let done = await center.wait(op.id)
        guard done?.state == .succeeded else {
            return await failed(checkout, branch, done?.error.map { "up failed: \($0.message)" } ?? "up did not finish")
        }
        // Its time to live counts from when it answers.
        guard let preview = change(checkout, branch, { $0.state = "ready"; $0.commit = commit; $0.updated = now()
            $0.expires = now().addingTimeInterval(TimeInterval(settings.ttl)); $0.warned = false }) else { return }
        save(checkout)
        await notify(.previewReady, checkout, preview)
    }

    private func failed(_ checkout: ServedCheckout, _ branch: String, _ reason: String) async {
        guard let preview = change(checkout, branch, { $0.state = "failed"; $0.reason = reason; $0.updated = now() }) else { return }
        save(checkout)
        await notify(.previewFailed, checkout, preview,
                     extra: ["reason": reason, "fix": "see the preview's operation on the page, fix the branch and push again"])
    }

    /// `destroy --delete-data` of the instance, then the worktree; the record goes last.
    private func destroy(_ checkout: ServedCheckout, _ preview: Preview, reason: String) async {
        guard change(checkout, preview.branch, { $0.state = "removing"; $0.reason = reason }) != nil else { return }
        save(checkout)
        let worktree = URL(fileURLWithPath: preview.worktree)
        let id = PreviewNames.id(checkout: checkout.id, instance: preview.instance)
        if FileManager.default.fileExists(atPath: worktree.appendingPathComponent("Recipes").path) {
            let core = Core(checkout: worktree.path, executable: executable)
            if let op = try? await center.submit(kind: "destroy", checkout: id, instance: preview.instance, job: { reporter in
                .removal(try await core.destroy(Core.Target(instance: preview.instance), deleteData: true, reporter: reporter))
            }) {
                guard await center.wait(op.id)?.state == .succeeded else {
                    _ = change(checkout, preview.branch) { $0.state = "failed"; $0.reason = "could not destroy it: see its operation" }
                    save(checkout)
                    return
                }
            }
        }
        if FileManager.default.fileExists(atPath: worktree.appendingPathComponent("Recipes").path) {
            _ = try? await Core(checkout: worktree.path, executable: executable).removeOwnImages()
        }
        let git = Git(root: checkout.root)
        if !(await git.run(["worktree", "remove", "--force", "--force", worktree.path]).ok) {
            try? FileManager.default.removeItem(at: worktree)
            _ = await git.run(["worktree", "prune"])
        }
        previews[checkout.id]?.removeAll { $0.branch == preview.branch }
        save(checkout)
        await notify(.previewRemoved, checkout, preview, extra: ["reason": reason])
    }

    /// Puts the worktree at `commit`, detached: made when missing (a leftover folder git does not know is replaced),
    /// else checked out there, its own changes discarded. Returns why it failed, or nil.
    private static func place(_ worktree: URL, of checkout: ServedCheckout, at commit: String) async -> String? {
        let git = Git(root: checkout.root)
        if FileManager.default.fileExists(atPath: worktree.appendingPathComponent(".git").path) {
            let r = await Git(root: worktree).run(["checkout", "--quiet", "--force", "--detach", commit])
            return r.ok ? nil : "git checkout \(commit.prefix(8)) in \(worktree.path) failed: \(r.text.isEmpty ? r.err : r.text)"
        }
        try? FileManager.default.removeItem(at: worktree)
        _ = await git.run(["worktree", "prune"])
        try? FileManager.default.createDirectory(at: worktree.deletingLastPathComponent(), withIntermediateDirectories: true)
        let r = await git.run(["worktree", "add", "--quiet", "--detach", worktree.path, commit])
        return r.ok ? nil : "git worktree add \(worktree.path) failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    @discardableResult
    private func change(_ checkout: ServedCheckout, _ branch: String, _ edit: (inout Preview) -> Void) -> Preview? {
        guard let index = previews[checkout.id]?.firstIndex(where: { $0.branch == branch }) else { return nil }
        edit(&previews[checkout.id]![index])
        return previews[checkout.id]![index]
    }

    // MARK: - Telling

    /// The preview as the API shows it, with its services as `status --json` gives them (none while it is not up).
    nonisolated package func json(_ checkout: ServedCheckout, _ preview: Preview) async -> [String: Any] {
        let id = PreviewNames.id(checkout: checkout.id, instance: preview.instance)
        var o: [String: Any] = ["id": id, "checkout": checkout.id, "branch": preview.branch, "instance": preview.instance,
                                "worktree": preview.worktree, "commit": preview.commit ?? NSNull(), "wanted": preview.wanted,
                                "state": preview.state, "reason": preview.reason ?? NSNull(),
                                "created": NotifyEvent.timestamp(preview.created),
                                "updated": preview.updated.map(NotifyEvent.timestamp) ?? NSNull(),
                                "expires": NotifyEvent.timestamp(preview.expires), "page": "\(address.origin)/#preview=\(id)"]
        var services: [Any] = []
        if preview.state != "removing", FileManager.default.fileExists(atPath: preview.worktree + "/Recipes"),
           let status = try? await Core(checkout: preview.worktree, executable: executable).status(Core.Target(instance: preview.instance)),
           let data = try? JSONEncoder().encode(status.services), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] {
            services = list
        }
        o["services"] = services
        o["urls"] = Dictionary(services.compactMap { item -> (String, String)? in
            guard let s = item as? [String: Any], let name = s["service"] as? String, let url = s["url"] as? String, url.hasPrefix("http") else { return nil }
            return (name, url)
        }, uniquingKeysWith: { a, _ in a })
        return o
    }

    private func notify(_ kind: NotifyEvent.Kind, _ checkout: ServedCheckout, _ preview: Preview, extra: [String: Any] = [:]) async {
        var object = await json(checkout, preview)
        object.removeValue(forKey: "services")
        for (key, value) in extra { object[key] = value }
        object["previewCommit"] = preview.commit ?? preview.wanted
        await send(kind, checkout, object, instance: preview.instance, commit: preview.commit ?? preview.wanted)
    }

    /// Events go out through the served checkout's spool: a preview's own folder may be gone before they are delivered.
    private func send(_ kind: NotifyEvent.Kind, _ checkout: ServedCheckout, _ object: [String: Any], instance: String, commit: String) async {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        await Notifier(checkout: Checkout(root: checkout.root), deliverer: [executable, "notify-deliver", "--checkout", checkout.root.path])
            .send(kind, result: data, instance: instance, commit: commit)
    }

    // MARK: - Keeping

    private static func file(_ checkout: ServedCheckout) -> URL {
        checkout.root.appendingPathComponent(".sandbox").appendingPathComponent("previews.json")
    }

    /// What a previous `serve` knew; a run it was killed in is marked failed, so the next push or poll retries it.
    private static func load(_ checkout: ServedCheckout) -> [Preview] {
        guard let data = try? Data(contentsOf: file(checkout)) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard var list = try? decoder.decode([Preview].self, from: data) else { return [] }
        for index in list.indices where ["creating", "updating", "removing"].contains(list[index].state) {
            list[index].reason = "serve stopped while it was \(list[index].state)"
            list[index].state = "failed"
        }
        return list
    }

    private func save(_ checkout: ServedCheckout) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(previews[checkout.id] ?? []) else { return }
        let file = Self.file(checkout)
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
