import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxOutput
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
    package typealias Preview = PreviewRecord

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
    /// Previews being destroyed now (`checkout\nbranch`): a second removal of one waits for nothing and does nothing.
    private var destroying: Set<String> = []

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

    /// The worktree of the preview `id` (`<checkout>~<instance>`) as a checkout the API can address, for its own instance
    /// only, and not while it is being removed.
    package func checkout(_ id: String, instance: String) throws(SandboxError) -> ServedCheckout? {
        guard let (_, preview) = find(id) else { return nil }
        guard instance == preview.instance else {
            throw SandboxError(.notFound, "the preview \(id) has only the instance \(preview.instance)",
                               fix: "use /api/v1/instances/\(preview.instance)?checkout=\(id)")
        }
        guard preview.state != "removing" else {
            throw SandboxError(.instanceBusy, "the preview \(id) is being removed", fix: "wait until it is gone; a push to \(preview.branch) makes it again")
        }
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
        guard preview.isSettled else {
            throw SandboxError(.instanceBusy, "the preview of \(preview.branch) is \(preview.state)", fix: "remove it once that has finished")
        }
        guard await destroy(checkout, preview.branch, reason: "removed by request", when: { $0.isSettled }) else {
            throw SandboxError(.stepFailed, "the preview of \(preview.branch) could not be destroyed; it is kept and its removal is retried",
                               fix: "see its destroy operation on the page or at /api/v1/operations")
        }
    }

    /// Sends `preview-expiring` once for each preview near its end, and destroys those past it.
    package func expire() async {
        let date = now()
        for checkout in checkouts {
            // One being made or updated is left to finish: its push gave it a new time to live anyway.
            for preview in previews[checkout.id] ?? [] where preview.isSettled {
                if date >= preview.expires {
                    // Read again when it is its turn: a push or Keep meanwhile gave it a new end.
                    await destroy(checkout, preview.branch, reason: "its time to live ran out at \(NotifyEvent.timestamp(preview.expires))",
                                  when: { $0.isSettled && now() >= $0.expires })
                } else if !preview.warned && date >= preview.expires.addingTimeInterval(-TimeInterval(settings.warnBefore)) {
                    _ = change(checkout, preview.branch) { $0.warned = true }
                    await notify(.previewExpiring, checkout, preview,
                                 extra: ["reason": "it is destroyed at \(NotifyEvent.timestamp(preview.expires))",
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
        // New previews come from the remote the checkout's branch follows; each preview keeps the remote it came from.
        let current = (own != nil ? await git.remote(of: own!) : nil) ?? "origin"
        var listings: [String: [String: String]] = [:]
        for remote in Set([current] + (previews[checkout.id] ?? []).map(\.remote)) {
            guard await git.run(["fetch", "--quiet", "--prune", "--", remote]).ok, let listed = await git.remoteBranches(remote) else { continue }
            listings[remote] = listed
        }
        // A removal a previous run (or serve) started is finished; a branch that is gone takes its preview along. A remote
        // that could not be fetched, or that lists no branch at all, says nothing about what is gone.
        for preview in previews[checkout.id] ?? [] {
            if preview.state == "removing" {
                await destroy(checkout, preview.branch, reason: preview.reason ?? "removed", when: { $0.state == "removing" })
            } else if let listed = listings[preview.remote], !listed.isEmpty, listed[preview.branch] == nil {
                await destroy(checkout, preview.branch, reason: "branch \(preview.branch) was deleted",
                              when: { $0.isSettled && listings[$0.remote]?[$0.branch] == nil })
            }
        }
        let wanted = (listings[current] ?? [:]).filter { settings.matches($0.key, checkout: checkout.id) && $0.key != own }
        for (branch, commit) in wanted.sorted(by: { $0.key < $1.key }) where branches?.contains(branch) ?? true {
            let instance = PreviewNames.instance(for: branch)
            if let preview = previews[checkout.id]?.first(where: { $0.branch == branch }) {
                // A failed one is tried again by a push, by a new commit, or after a serve that stopped mid-way; a poll
                // that finds the commit that failed leaves it failed (no `up` and no event every poll).
                let interrupted = preview.reason?.hasPrefix("serve stopped") == true
                let retry = preview.state == "failed" && (branches != nil || preview.wanted != commit || interrupted)
                guard preview.isSettled, preview.state == "ready" && preview.commit != commit || retry else { continue }
                await bringUp(checkout, branch: branch, remote: preview.remote, commit: commit, creating: false)
            } else if let reason = limitReached(checkout) ?? nameTaken(checkout, instance: instance, by: branch) {
                guard refused[checkout.id + "\n" + branch] != commit else { continue }
                refused[checkout.id + "\n" + branch] = commit
                let object: [String: Any] = ["branch": branch, "previewCommit": commit, "reason": reason.message, "fix": reason.fix ?? ""]
                await send(.previewRefused, checkout, object, instance: instance, commit: commit)
            } else {
                await bringUp(checkout, branch: branch, remote: current, commit: commit, creating: true)
            }
        }
    }

    /// Two branches whose names map to one instance name (a branch named like another's hashed name): the second is refused.
    private func nameTaken(_ checkout: ServedCheckout, instance: String, by branch: String) -> SandboxError? {
        guard let other = previews[checkout.id]?.first(where: { $0.instance == instance && $0.branch != branch }) else { return nil }
        return SandboxError(.badRequest, "branch \(branch) would take the name \(instance), which the preview of \(other.branch) has; nothing was changed",
                            fix: "rename the branch")
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
    private func bringUp(_ checkout: ServedCheckout, branch: String, remote: String, commit: String, creating: Bool) async {
        let instance = PreviewNames.instance(for: branch)
        let worktree = PreviewNames.folder(of: checkout.root).appendingPathComponent(instance)
        let date = now()
        if creating {
            let preview = Preview(branch: branch, remote: remote, instance: instance, worktree: worktree.path, wanted: commit, state: "creating",
                                  created: date, expires: date.addingTimeInterval(TimeInterval(settings.ttl)))
            previews[checkout.id, default: []].append(preview)
        }
        // Every push extends the time to live.
        _ = change(checkout, branch) { $0.state = creating ? "creating" : "updating"; $0.wanted = commit; $0.reason = nil
            $0.expires = date.addingTimeInterval(TimeInterval(settings.ttl)); $0.warned = false }
        save(checkout)
        let moved = await place(worktree, of: checkout, at: commit)
        if let failure = moved { return await failed(checkout, branch, failure) }
        let id = PreviewNames.id(checkout: checkout.id, instance: instance), sandbox = settings.sandbox
        let core = Core(checkout: worktree.path, executable: executable)
        guard let op = try? await center.submit(kind: "up", checkout: id, instance: instance, job: { reporter in
            .up(try await core.up(Core.Target(sandbox: sandbox, instance: instance), reporter: reporter))
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

    /// `destroy --delete-data` of the instance, then its own images and the worktree; the record goes last. `when` is asked of
    /// the record as it is at this moment (a push or Keep may have changed it since the caller looked). A removal that
    /// could not destroy the instance leaves the record `removing` (finished by the next run), the worktree and the data in
    /// place. Returns whether the preview is gone.
    @discardableResult
    private func destroy(_ checkout: ServedCheckout, _ branch: String, reason: String, when: (Preview) -> Bool) async -> Bool {
        let key = checkout.id + "\n" + branch
        guard let current = previews[checkout.id]?.first(where: { $0.branch == branch }), when(current), destroying.insert(key).inserted else { return false }
        defer { destroying.remove(key) }
        let preview = change(checkout, branch, { $0.state = "removing"; $0.reason = reason }) ?? current
        save(checkout)
        let worktree = URL(fileURLWithPath: preview.worktree)
        let id = PreviewNames.id(checkout: checkout.id, instance: preview.instance), sandbox = settings.sandbox
        var info = stat()
        let ownState = lstat(worktree.appendingPathComponent(".sandbox").path, &info) != 0 || (info.st_mode & S_IFMT) == S_IFDIR
        if ownState, FileManager.default.fileExists(atPath: worktree.appendingPathComponent("Recipes").path) {
            let core = Core(checkout: worktree.path, executable: executable)
            let op = try? await center.submit(kind: "destroy", checkout: id, instance: preview.instance, job: { reporter in
                .removal(try await core.destroy(Core.Target(sandbox: sandbox, instance: preview.instance), deleteData: true, reporter: reporter))
            })
            guard let op, await center.wait(op.id)?.state == .succeeded else {
                _ = change(checkout, branch) { $0.reason = "\(reason); destroying it failed (retried by the next push or poll): see its operation" }
                save(checkout)
                return false
            }
            _ = try? await core.removeOwnImages()
        }
        let git = Git(root: checkout.root)
        if !(await git.run(["worktree", "remove", "--force", "--force", "--", worktree.path]).ok) {
            try? FileManager.default.removeItem(at: worktree)
            _ = await git.run(["worktree", "prune"])
        }
        previews[checkout.id]?.removeAll { $0.branch == branch }
        save(checkout)
        await notify(.previewRemoved, checkout, preview, extra: ["reason": reason])
        return true
    }

    /// Puts the worktree at `commit`, detached: made when missing, else checked out there, its own changes discarded. A
    /// leftover folder git does not know as this checkout's worktree (the checkout cloned anew) is destroyed and made
    /// again. A commit whose `.sandbox` is anything but a folder of its own (a link elsewhere) is refused: the preview's
    /// state and data stay inside its worktree. Returns why it failed, or nil.
    private func place(_ worktree: URL, of checkout: ServedCheckout, at commit: String) async -> String? {
        let git = Git(root: checkout.root), tree = Git(root: worktree)
        // Asked of the commit before any file is touched: checking out a `.sandbox` of the branch's own would replace the
        // preview's state folder (its data) with whatever the branch put there.
        let listed = await git.run(["ls-tree", "--name-only", commit, "--", ".sandbox"])
        guard listed.ok else { return "cannot read commit \(commit.prefix(8)): \(listed.err.trimmingCharacters(in: .whitespacesAndNewlines))" }
        guard listed.text.isEmpty else {
            return "commit \(commit.prefix(8)) has a .sandbox of its own (a link or files): a preview keeps its state and data in a folder sandbox makes"
        }
        if FileManager.default.fileExists(atPath: worktree.appendingPathComponent(".git").path) {
            let mine = await git.run(["rev-parse", "--path-format=absolute", "--git-common-dir"]).text
            let theirs = await tree.run(["rev-parse", "--path-format=absolute", "--git-common-dir"]).text
            if mine.isEmpty || mine != theirs {
                if FileManager.default.fileExists(atPath: worktree.appendingPathComponent("Recipes").path) {
                    _ = try? await Core(checkout: worktree.path, executable: executable)
                        .destroy(Core.Target(sandbox: settings.sandbox, instance: worktree.lastPathComponent), deleteData: true, reporter: SilentReporter())
                }
                try? FileManager.default.removeItem(at: worktree)
            }
        }
        if FileManager.default.fileExists(atPath: worktree.appendingPathComponent(".git").path) {
            let r = await tree.run(["checkout", "--quiet", "--force", "--detach", commit])
            guard r.ok else { return "git checkout \(commit.prefix(8)) in \(worktree.path) failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))" }
        } else {
            try? FileManager.default.removeItem(at: worktree)
            _ = await git.run(["worktree", "prune"])
            try? FileManager.default.createDirectory(at: worktree.deletingLastPathComponent(), withIntermediateDirectories: true)
            let r = await git.run(["worktree", "add", "--quiet", "--detach", "--", worktree.path, commit])
            guard r.ok else { return "git worktree add \(worktree.path) failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))" }
        }
        var info = stat()
        let state = worktree.appendingPathComponent(".sandbox").path
        if lstat(state, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR {
            return "commit \(commit.prefix(8)) has a .sandbox that is not a folder (a link?): a preview keeps its state and data in its own worktree"
        }
        return nil
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

    private static func load(_ checkout: ServedCheckout) -> [Preview] { PreviewRecord.load(checkout) }

    private func save(_ checkout: ServedCheckout) { PreviewRecord.save(previews[checkout.id] ?? [], checkout) }
}
