import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxPlan

/// Carries out a `DataUpgrade` into the service's staging folder, which `switchData` then puts in place.
///
/// The old data dir is only ever read (copied); every server the upgrade starts is a private container with no
/// network, removed again. On any failure the staging and work folders are deleted and the service's container
/// is started again on its untouched data, so the old version keeps running; a killed upgrade leaves the same
/// (the next command, whatever it is, removes the private servers that outlived it, then deletes the folders).
struct DataUpgrader: Sendable {
    var docker: Docker
    var layout: InstanceLayout
    var sandbox: ResolvedSandbox
    var uid: UInt32
    var gid: UInt32
    var line: @Sendable (String) -> Void

    /// The dump, written by the old server inside the copy of the old data (a folder its user may write to).
    static let dumpFile = ".sandbox-upgrade.dump"

    func run(_ upgrade: DataUpgrade) async throws(SandboxError) {
        let service = upgrade.service
        let staging = layout.staging(service.name), work = layout.upgradeWork(service.name)
        let prefix = layout.containerName(sandbox: sandbox.name, [layout.instance, "upgrade", service.name])
        let names = [prefix + "-from", prefix + "-to", prefix + "-to-init"]
        let (from, to) = ("\(upgrade.from.engine) \(upgrade.fromVersion)", upgrade.toVersion)
        var doing = "preparing"
        do throws(SandboxError) {
            for name in names { try await removeLeftover(name) }
            try FileSystem.remove(staging)
            try FileSystem.remove(work)
            guard let route = service.spec.upgrade else { throw SandboxError(.upgradeFailed, "image recipe \(service.imageTag) has no 'upgrade'") }
            switch upgrade.method {
            case .dump:
                guard let old = upgrade.old, let dump = route.dump, let restore = route.restore else {
                    throw SandboxError(.upgradeFailed, "upgrade method 'dump' needs the old image and 'dump' and 'restore'")
                }
                doing = "copying the \(from) data"
                line("upgrade: \(doing)")
                try await DataCopy.copy(layout.dataDir(service.name), to: work, line: line)
                doing = "starting the \(upgrade.fromVersion) server (\(old.imageTag)) on the copy"
                line("upgrade: \(doing)")
                try await start(old, name: names[0], dataDir: work)
                doing = "dumping the data with the \(upgrade.fromVersion) server"
                line("upgrade: \(doing)")
                let target = (old.spec.stateFolder as NSString).appendingPathComponent(Self.dumpFile)
                try await exec(names[0], old, script: try Rendering.command(dump, spec: old.spec, stamp: upgrade.from) + " > " + shellQuote(target))
                try await stop(names[0], old)
                doing = "making a fresh \(to) data dir"
                line("upgrade: \(doing)")
                try FileSystem.ensureDirectory(staging)
                try FileSystem.checkWritable(staging)
                try await GoldenData(docker: docker, layout: layout, sandbox: sandbox, uid: uid, gid: gid, line: line)
                    .initialise(service, stamp: upgrade.stamp, staging: staging, name: names[2], labels: labels(service))
                doing = "starting the \(to) server"
                line("upgrade: \(doing)")
                try await start(service, name: names[1], dataDir: staging)
                doing = "restoring the dump into \(to)"
                line("upgrade: \(doing)")
                try await exec(names[1], service, script: try Rendering.command(restore, spec: service.spec, stamp: upgrade.stamp),
                               stdin: work.appendingPathComponent(Self.dumpFile).path)
                try await stop(names[1], service)
            case .inPlace:
                guard let run = route.run else { throw SandboxError(.upgradeFailed, "upgrade method 'in-place' needs 'run'") }
                doing = "copying the \(from) data"
                line("upgrade: \(doing)")
                try await DataCopy.copy(layout.dataDir(service.name), to: staging, line: line)
                doing = "starting the \(to) server on the copy"
                line("upgrade: \(doing)")
                try await start(service, name: names[1], dataDir: staging)
                doing = "upgrading the data in place"
                line("upgrade: \(doing)")
                try await exec(names[1], service, script: try Rendering.command(run, spec: service.spec, stamp: upgrade.stamp))
                try await stop(names[1], service)
            }
            Readiness.clear(staging)
            try upgrade.stamp.write(to: staging)
            FileSystem.syncFilesystem(staging)
            try FileSystem.remove(work)
        } catch {
            for name in names { try? await docker.forceRemove([name]) }
            try? FileSystem.remove(staging)
            try? FileSystem.remove(work)
            if error.code == .engineUnreachable || error.code == .dockerMissing { throw error }
            throw SandboxError(.upgradeFailed, "upgrading the data of \(service.name) from \(from) to \(to) failed while \(doing): \(error.message)",
                               fix: "the \(upgrade.fromVersion) data was not changed, and its server is started again; "
                                   + "fix the cause (the output is in .sandbox/\(layout.instance)/logs/service-\(service.name).log), "
                                   + "then `\(Messages.up(layout.instance))` again, or put the recipe back on \(upgrade.fromVersion)",
                               detail: error.detail)
        }
    }

    /// After any upgrade of the same plan failed (this one or another service's): its staged result is thrown away
    /// and the service's own container, on its untouched data, runs again if it ran before the upgrade.
    func abandon(_ upgrade: DataUpgrade) async throws(SandboxError) {
        try FileSystem.remove(layout.staging(upgrade.service.name))
        try FileSystem.remove(layout.upgradeWork(upgrade.service.name))
        guard let container = upgrade.container, container.running else { return }
        let state = try await docker.run(.containerState(container.id), check: false)
        if state.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "running" { return }
        Readiness.clear(layout.dataDir(upgrade.service.name))
        try await docker.run(.start([container.id]))
        let service = upgrade.old ?? upgrade.service
        try await Readiness(docker: docker).wait(container: container.name, service: service, folder: layout.dataDir(service.name))
    }

    func labels(_ service: ResolvedService) -> [String: String] {
        layout.labels(sandbox: sandbox.name).merging([Label.role: "upgrade", Label.service: service.name]) { $1 }
    }

    /// A private server on `dataDir` (no network, no published port), waited for until ready.
    func start(_ service: ResolvedService, name: String, dataDir: URL) async throws(SandboxError) {
        var spec = try DockerCommand.RunSpec.service(service, name: name, labels: labels(service), mounts: [.init(dataDir.path, at: service.spec.stateFolder)],
                                                     uid: uid, gid: gid)
        spec.network = "none"
        Readiness.clear(dataDir)
        try await docker.run(.run(spec))
        try await Readiness(docker: docker).wait(container: name, service: service, folder: dataDir)
    }

    /// A clean stop (the recipe's stop signal and timeout), then removal.
    func stop(_ name: String, _ service: ResolvedService) async throws(SandboxError) {
        try await docker.run(.stop([name], timeout: service.spec.stopTimeout))
        try await docker.run(.remove([name]))
    }

    func exec(_ name: String, _ service: ResolvedService, script: String, stdin: String? = nil) async throws(SandboxError) {
        let command = DockerCommand.exec(name, user: service.spec.runAs, script: script, stdinFile: stdin)
        let out = try await docker.run(command, check: false)
        for text in (out.stdout + out.stderr).split(separator: "\n") { line(String(text)) }
        if out.status != 0 {
            if out.failure == .engineDown || out.failure == .outOfSpace { throw docker.failure(command, out) }
            throw SandboxError(.upgradeFailed, "exit status \(out.status)", detail: Docker.tail(out.stderr.isEmpty ? out.stdout : out.stderr, lines: 15))
        }
    }

    func removeLeftover(_ name: String) async throws(SandboxError) { try await docker.forceRemove([name]) }
}
