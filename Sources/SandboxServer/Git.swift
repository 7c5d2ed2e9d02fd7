import Foundation
import Subprocess
import SandboxEngine

/// git in one checkout, never prompting (a fetch that needs a password fails instead of waiting).
struct Git: Sendable {
    let root: URL

    struct Output: Sendable {
        var status: Int32
        var out: String
        var err: String
        var ok: Bool { status == 0 }
        var text: String { out.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func run(_ arguments: [String]) async -> Output {
        do {
            let result = try await Subprocess.run(.name("git"), arguments: Arguments(["-C", root.path] + arguments),
                                                  environment: .inherit.updating(["GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
                                                                                  "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"]),
                                                  platformOptions: ChildGuard.shared.options(), input: .none,
                                                  output: .string(limit: 4 << 20), error: .string(limit: 1 << 20))
            return Output(status: result.terminationStatus.code, out: result.standardOutput, err: result.standardError)
        } catch {
            return Output(status: 127, out: "", err: "cannot run git: \(error)")
        }
    }

    /// The branch checked out, nil when HEAD is detached (or this is not a git work tree).
    func branch() async -> String? {
        let r = await run(["symbolic-ref", "--short", "-q", "HEAD"])
        return r.ok && !r.text.isEmpty ? r.text : nil
    }

    func commit(_ revision: String = "HEAD") async -> String? {
        let r = await run(["rev-parse", "--verify", "-q", "\(revision)^{commit}"])
        return r.ok ? r.text : nil
    }

    /// The upstream of the current branch, as `origin/main`.
    func upstream() async -> String? {
        let r = await run(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"])
        return r.ok && !r.text.isEmpty ? r.text : nil
    }

    /// The remote the branch follows (`origin`).
    func remote(of branch: String) async -> String? {
        let r = await run(["config", "--get", "branch.\(branch).remote"])
        return r.ok && !r.text.isEmpty ? r.text : nil
    }

    /// Tracked files changed and not committed (untracked files do not stop a fast-forward).
    func localChanges() async -> [String] {
        let r = await run(["status", "--porcelain", "--untracked-files=no"])
        return r.out.split(separator: "\n").map { String($0.dropFirst(3)) }.filter { !$0.isEmpty }
    }

    /// How many commits `a` has that `b` does not.
    func count(_ a: String, notIn b: String) async -> Int? {
        Int(await run(["rev-list", "--count", "\(b)..\(a)"]).text)
    }

    /// The branches `remote` has, as the last fetch saw them: name → commit (`origin/HEAD` left out).
    func remoteBranches(_ remote: String) async -> [String: String]? {
        let prefix = "refs/remotes/\(remote)/"
        let r = await run(["for-each-ref", "--format=%(refname) %(objectname)", prefix])
        guard r.ok else { return nil }
        var found: [String: String] = [:]
        for line in r.out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].hasPrefix(prefix) else { continue }
            let name = String(parts[0].dropFirst(prefix.count))
            if name != "HEAD" { found[name] = String(parts[1]) }
        }
        return found
    }
}
