import Foundation
import SandboxRecipes
import SandboxNotify
import SandboxKit

/// Keeps served checkouts on their branch: fetch, fast-forward only, then `up` of every instance.
///
/// A push event, a poll or the page's "update now" asks for a run. Runs on one checkout never overlap, and a
/// burst coalesces: while one runs, any number of requests make one more run, which fetches the newest commit.
/// A checkout with local changes, a diverged branch or no upstream is never touched; its status says why and
/// how to fix it.
package actor BranchFollower {
    package struct Status: Sendable {
        package var state = "idle"
        package var branch: String?
        package var commit: String?
        package var upstream: String?
        package var upstreamCommit: String?
        package var behind: Int?
        package var reason: String?
        package var fix: String?
        package var checked: Date?
        package var result: String?
        package var runs = 0

        var json: [String: Any] {
            var o: [String: Any] = ["state": state, "runs": runs]
            o["branch"] = branch ?? NSNull(); o["commit"] = commit ?? NSNull(); o["upstream"] = upstream ?? NSNull()
            o["upstreamCommit"] = upstreamCommit ?? NSNull(); o["behind"] = behind ?? NSNull()
            o["reason"] = reason ?? NSNull(); o["fix"] = fix ?? NSNull(); o["result"] = result ?? NSNull()
            o["checked"] = checked.map { ISO8601DateFormatter().string(from: $0) } ?? NSNull()
            return o
        }
    }

    private let checkouts: [ServedCheckout]
    /// This binary, which delivers notifications in the background.
    private let executable: String
    private let center: OperationCenter
    private var statuses: [String: Status] = [:]
    private var running: Set<String> = []
    private var again: Set<String> = []

    package init(checkouts: [ServedCheckout], executable: String, center: OperationCenter) {
        self.checkouts = checkouts; self.executable = executable; self.center = center
    }

    /// The checkouts whose current branch is `branch`.
    package func following(_ branch: String) async -> [ServedCheckout] {
        var found: [ServedCheckout] = []
        for checkout in checkouts where await Git(root: checkout.root).branch() == branch { found.append(checkout) }
        return found
    }

    /// Asks for a run; returns at once. While a run is under way, requests make exactly one more.
    package func request(_ id: String) {
        guard let checkout = checkouts.first(where: { $0.id == id }) else { return }
        if running.contains(id) { again.insert(id); return }
        running.insert(id)
        Task { await self.loop(checkout) }
    }

    /// The status, with the branch and commit read now (cheap, no fetch).
    package func status(_ id: String) async -> Status {
        var status = statuses[id] ?? Status()
        guard let checkout = checkouts.first(where: { $0.id == id }) else { return status }
        let git = Git(root: checkout.root)
        status.branch = await git.branch()
        status.commit = await git.commit()
        if let upstreamCommit = status.upstreamCommit, let commit = status.commit {
            status.behind = await git.count(upstreamCommit, notIn: commit)
        }
        return status
    }

    package func isBusy(_ id: String) -> Bool { running.contains(id) }

    private func loop(_ checkout: ServedCheckout) async {
        repeat {
            again.remove(checkout.id)
            await follow(checkout)
        } while again.contains(checkout.id)
        running.remove(checkout.id)
    }

    private func set(_ id: String, _ change: (inout Status) -> Void) {
        var s = statuses[id] ?? Status()
        change(&s)
        statuses[id] = s
    }

    /// Leaves the checkout as it is, says why on the page and in a `follow-refused` notification.
    private func refuse(_ id: String, _ reason: String, fix: String) async {
        set(id) { $0.state = "refused"; $0.reason = reason; $0.fix = fix; $0.checked = Date() }
        guard let checkout = checkouts.first(where: { $0.id == id }) else { return }
        let status = statuses[id] ?? Status()
        let object: [String: Any] = ["reason": reason, "fix": fix, "branch": status.branch ?? NSNull(), "upstream": status.upstream ?? NSNull(),
                                     "upstreamCommit": status.upstreamCommit ?? NSNull()]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        let root = Checkout(root: checkout.root)
        await Notifier(checkout: root, deliverer: [executable, "notify-deliver", "--checkout", checkout.root.path])
            .send(.followRefused, result: data, instance: "")
    }

    /// One run: fetch, check, fast-forward, then `up` of every instance not yet at the commit.
    private func follow(_ checkout: ServedCheckout) async {
        let id = checkout.id, git = Git(root: checkout.root)
        set(id) { $0.state = "checking"; $0.runs += 1; $0.reason = nil; $0.fix = nil }
        guard let branch = await git.branch() else {
            return await refuse(id, "the checkout is not on a branch (detached HEAD, or not a git work tree)",
                          fix: "check out the branch to follow: git -C \(checkout.root.path) switch main")
        }
        guard let upstream = await git.upstream(), let remote = await git.remote(of: branch) else {
            return await refuse(id, "branch \(branch) has no upstream to follow",
                          fix: "git -C \(checkout.root.path) branch --set-upstream-to origin/\(branch)")
        }
        set(id) { $0.branch = branch; $0.upstream = upstream }
        let fetch = await git.run(["fetch", "--quiet", "--prune", remote])
        guard fetch.ok else {
            set(id) { $0.state = "failed"; $0.checked = Date()
                $0.reason = "git fetch \(remote) failed: \(fetch.err.trimmingCharacters(in: .whitespacesAndNewlines))"
                $0.fix = "check that `git -C \(checkout.root.path) fetch` works for the user running sandbox serve" }
            return
        }
        let head = await git.commit(), target = await git.commit(upstream)
        set(id) { $0.upstreamCommit = target; $0.checked = Date() }
        guard let head, let target else {
            return await refuse(id, "cannot read the commits of \(branch) and \(upstream)", fix: "git -C \(checkout.root.path) status")
        }
        if head != target {
            let changes = await git.localChanges()
            guard changes.isEmpty else {
                return await refuse(id, "the checkout has local changes to \(changes.prefix(5).joined(separator: ", "))"
                                        + "\(changes.count > 5 ? " and \(changes.count - 5) more" : ""), so it is left as it is",
                              fix: "commit, stash or discard them (git -C \(checkout.root.path) stash), then update again")
            }
            guard await git.run(["merge-base", "--is-ancestor", head, target]).ok else {
                let ahead = await git.count(head, notIn: target) ?? 0
                return await refuse(id, "branch \(branch) has diverged from \(upstream) "
                                        + "(\(ahead) local commit\(ahead == 1 ? "" : "s") not on it), so it is left as it is",
                              fix: "rebase or reset it onto \(upstream) (git -C \(checkout.root.path) rebase \(upstream)), then update again")
            }
            set(id) { $0.state = "updating" }
            let merge = await git.run(["merge", "--ff-only", "--quiet", target])
            guard merge.ok else {
                return await refuse(id, "git merge --ff-only \(upstream) failed: \(merge.err.trimmingCharacters(in: .whitespacesAndNewlines))",
                              fix: "git -C \(checkout.root.path) status shows why")
            }
        }
        await upInstances(checkout, at: target)
    }

    /// `up` of every instance of the checkout whose recorded commit is not `commit`, one operation each.
    private func upInstances(_ checkout: ServedCheckout, at commit: String) async {
        let id = checkout.id
        let core = Core(checkout: checkout.root.path, executable: executable)
        let list = (try? await core.list())?.instances ?? []
        let stale = list.filter { $0.commit != commit }.map(\.instance)
        guard !stale.isEmpty else {
            set(id) { $0.state = "up-to-date"; $0.result = "every instance runs \(commit.prefix(8))" }
            return
        }
        set(id) { $0.state = "updating" }
        var failed: [String] = []
        for instance in stale {
            guard let op = try? await center.submit(kind: "up", checkout: id, instance: instance, job: { reporter in
                .up(try await core.up(Core.Target(instance: instance), reporter: reporter))
            }) else {
                failed.append(instance); continue
            }
            if await center.wait(op.id)?.state != .succeeded { failed.append(instance) }
        }
        set(id) {
            $0.state = failed.isEmpty ? "updated" : "failed"
            $0.result = "at \(commit.prefix(8)): \(stale.count - failed.count) of \(stale.count) instance(s) updated"
                + (failed.isEmpty ? "" : "; up failed for \(failed.joined(separator: ", "))")
            $0.reason = failed.isEmpty ? nil : "up failed for \(failed.joined(separator: ", "))"
            $0.fix = failed.isEmpty ? nil : "see the failed operation on the page or at /api/v1/operations"
        }
    }
}
