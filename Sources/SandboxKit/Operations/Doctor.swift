import Foundation
import SandboxBase
import SandboxHost
import SandboxNotify
import SandboxEngine

/// Checks what `sandbox up` depends on and says, for each problem, what to do.
package struct Doctor: Sendable {
    package struct Finding: Sendable, Equatable, Codable {
        package enum Level: String, Sendable, Codable { case ok, warning, problem }
        package var level: Level
        package var check: String
        package var message: String
        package var fix: String?
    }

    package var workspace: Workspace

    package init(workspace: Workspace) { self.workspace = workspace }

    struct Versions: Decodable {
        struct Part: Decodable { var Version: String? }
        var Client: Part?
        var Server: Part?
    }

    package func run() async -> [Finding] {
        var findings: [Finding] = []
        let docker = workspace.docker
        // The docker CLI and the engine, from one call.
        do {
            let out = try await docker.run(.version, check: false)
            let versions = try? JSONDecoder().decode(Versions.self, from: Data(out.stdout.utf8))
            findings.append(.init(level: .ok, check: "docker CLI", message: "docker \(versions?.Client?.Version ?? "?")", fix: nil))
            if out.status == 0, let server = versions?.Server?.Version {
                findings.append(.init(level: .ok, check: "engine", message: "Docker engine \(server) answers", fix: nil))
            } else {
                let error = docker.failure(.version, out)
                findings.append(.init(level: .problem, check: "engine", message: error.message, fix: error.fix))
            }
        } catch {
            findings.append(.init(level: .problem, check: "docker CLI", message: error.message, fix: error.fix))
        }
        // Recipes.
        let errors = workspace.recipes.diagnostics.count
        findings.append(errors == 0
            ? .init(level: .ok, check: "recipes",
                    message: "\(workspace.recipes.sandboxes.count) sandbox recipe(s), "
                        + "\(workspace.recipes.images.count) image recipe(s), no errors", fix: nil)
            : .init(level: .problem, check: "recipes", message: "\(errors) error(s) in recipes", fix: "run `sandbox check` to see them"))
        // The state folder.
        let state = workspace.checkout.stateDirectory
        do {
            try FileSystem.ensureDirectory(state)
            try FileSystem.checkWritable(state)
            findings.append(.init(level: .ok, check: ".sandbox", message: "\(state.path) is writable", fix: nil))
        } catch {
            findings.append(.init(level: .problem, check: ".sandbox", message: error.message, fix: error.fix))
        }
        findings.append(Self.dataCopies(DataStore(checkout: workspace.checkout).status()))
        if getuid() != 0, let foreign = Self.foreignOwned(state) {
            findings.append(.init(level: .warning, check: "ownership", message: "\(foreign) under .sandbox/ belongs to another user",
                                  fix: "take it back: sudo chown -R $(id -u):$(id -g) \(state.path)"))
        }
        // Disk space where data dirs live.
        var fs = statvfs()
        if statvfs(workspace.checkout.root.path, &fs) == 0 {
            let free = Double(fs.f_bavail) * Double(fs.f_frsize) / 1_073_741_824
            findings.append(free < 2
                ? .init(level: .warning, check: "disk", message: "\(Formatting.fixed(free, places: 1)) GiB free on the checkout's filesystem",
                        fix: "free some space: images and data dirs need a few GiB")
                : .init(level: .ok, check: "disk", message: "\(Formatting.fixed(free, places: 1)) GiB free on the checkout's filesystem", fix: nil))
        }
        // Base images: present, pullable, or bootstrappable.
        for recipe in workspace.recipes.images.values.sorted(by: { $0.name < $1.name }) {
            guard let bootstrap = recipe.bootstrap else { continue }
            let present = ((try? await docker.run(.inspectImages([bootstrap.provides]), check: false))?.status ?? 1) == 0
            if present {
                findings.append(.init(level: .ok, check: "base \(bootstrap.provides)", message: "present", fix: nil))
            } else if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") {
                findings.append(.init(level: .warning, check: "base \(bootstrap.provides)",
                                      message: "not present; it will be pulled, and cannot be bootstrapped without debootstrap",
                                      fix: "sudo apt-get install debootstrap (Scripts/engine-up does it) if no registry is reachable"))
            } else if getuid() != 0 {
                findings.append(.init(level: .warning, check: "base \(bootstrap.provides)",
                                      message: "not present; if no registry answers, bootstrapping it needs root",
                                      fix: "run `sudo sandbox build` once"))
            } else {
                findings.append(.init(level: .ok, check: "base \(bootstrap.provides)",
                                      message: "not present; will be pulled, or bootstrapped from \(AptMirror.forSuite(bootstrap.suite))",
                                      fix: nil))
            }
        }
        findings += Self.notifications(NotifyConfig.load(), state: workspace.checkout.stateDirectory)
        return findings
    }

    /// Outgoing notifications: mistakes in their settings, then, per URL, whether its last event got there.
    static func notifications(_ config: NotifyConfig, state: URL) -> [Finding] {
        let check = "notifications"
        var findings = config.problems.map {
            Finding(level: .warning, check: check, message: $0, fix: "fix it (docs/notifications.md); until then what is wrong is skipped")
        }
        let summaries = NotifyLog.summaries(NotifyLog(stateDirectory: state).entries())
        // With URLs configured, only theirs: a URL taken out of the settings is no longer this machine's concern.
        let shown = config.urls.map(NotifyConfig.display)
        let relevant = config.isEnabled ? summaries.filter { shown.contains($0.url) } : summaries
        if !config.isEnabled && relevant.isEmpty {
            findings.append(Finding(level: .ok, check: check,
                                    message: "none configured (SANDBOX_NOTIFY_URL, or urls in "
                                        + "\(config.file ?? "~/.config/sandbox/notify.yml"))", fix: nil))
            return findings
        }
        for summary in relevant where summary.last.outcome == .failed {
            let last = summary.last
            let refused = last.status.map { (400..<500).contains($0) } ?? false
            findings.append(Finding(
                level: .warning, check: check,
                message: "the last event sent to \(summary.url) did not get there: \(last.error ?? "no answer") "
                    + "(\(last.event) of instance \(last.instance) at \(last.at), attempt \(last.attempt) of \(last.attempts)); "
                    + "\(summary.delivered) delivered, \(summary.failed) failed in the log",
                fix: refused ? "the receiver refused it: check the URL's path and that it checks signatures with the same secret; "
                                   + "every attempt is in .sandbox/notify.log"
                    : "make sure \(summary.url) is up and answers 2xx within \(Self.seconds(config.timeout)); every attempt is in .sandbox/notify.log"))
        }
        if !relevant.contains(where: { $0.last.outcome == .failed }) {
            let delivered = relevant.reduce(0) { $0 + $1.delivered }
            let waiting = NotifySpool(stateDirectory: state).waiting
            findings.append(Finding(level: .ok, check: check,
                                    message: "\(max(shown.count, relevant.count)) URL(s); "
                                        + "\(delivered) event(s) delivered\(waiting > 0 ? ", \(waiting) waiting" : "")",
                                    fix: nil))
        }
        return findings
    }

    /// Whether copies of data (fresh instances, resets, snapshots) are reflink clones or full copies.
    static func dataCopies(_ status: DataStore.Status) -> Finding {
        let check = "data copies"
        switch status.state {
        case .unmounted:
            return Finding(level: .problem, check: check, message: "the data store (.sandbox/.store.xfs) is not mounted", fix: "sudo sandbox store mount")
        case .mounted:
            return Finding(level: .ok, check: check,
                           message: "reflink clones in the data store (XFS): \(DiskUsage.format(status.usedBytes ?? 0)) used of "
                               + "\(DiskUsage.format(status.sizeBytes ?? 0))", fix: nil)
        case .none, .foreignMount:
            if status.reflinks {
                return Finding(level: .ok, check: check, message: "reflink clones (.sandbox/ is on \(status.filesystem) with reflinks)", fix: nil)
            }
            return Finding(level: .warning, check: check,
                           message: "full copies: .sandbox/ is on \(status.filesystem) without reflinks, "
                               + "so a fresh instance, a reset and a snapshot take time and disk in proportion to the data",
                           fix: "sudo sandbox store create (an XFS image with reflinks mounted on .sandbox/; docs/benchmarks.md#thin-clones)")
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : "\(value)s"
    }

    /// The first file under `url` (two levels deep) that the caller does not own.
    static func foreignOwned(_ url: URL) -> String? {
        let me = getuid()
        let fm = FileManager.default
        for top in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] {
            let path = url.appendingPathComponent(top).path
            for candidate in [path] + ((try? fm.contentsOfDirectory(atPath: path)) ?? []).map({ path + "/" + $0 }) {
                var st = stat()
                if lstat(candidate, &st) == 0, st.st_uid != me { return candidate }
            }
        }
        return nil
    }
}
