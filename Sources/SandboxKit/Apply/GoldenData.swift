import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// The golden copy of a service's set-up data, and the copies instances start from.
///
/// Init, setup and the update steps every copy shares run once per fresh hash, into a staging folder that is
/// stamped (after its content is on disk) and renamed into place only when complete. An instance's copy is
/// staged beside its data dir and renamed into place the same way, so a stamp always means complete.
package struct GoldenData: Sendable {
    var docker: Docker
    var layout: InstanceLayout
    var sandbox: ResolvedSandbox
    var uid: UInt32
    var gid: UInt32
    /// The instance's host ports, for setup steps that name them.
    var ports: [String: Int] = [:]
    var line: @Sendable (String) -> Void

    /// A fresh data dir for the service: a staged copy of the golden one, renamed into place.
    func copy(_ service: ResolvedService) async throws(SandboxError) {
        let golden = layout.golden(service)
        guard DataStamp.read(from: golden) != nil else {
            throw SandboxError(.dataDirDamaged, "the set-up data of \(service.name) (\(layout.checkout.display(golden.path))) is missing",
                               fix: "run `\(Messages.up(layout.instance))` again: it is made anew")
        }
        let staging = layout.staging(service.name)
        try await DataCopy.copy(golden, to: staging, line: line)
        let target = layout.dataDir(service.name)
        if FileSystem.exists(target) && FileSystem.isEmptyDirectory(target) { try FileSystem.remove(target) }
        FileSystem.syncFilesystem(staging)
        try FileSystem.move(staging, to: target)
    }

    /// Makes the golden data dir, unless another `sandbox` process made it meanwhile. One process at a time.
    package func make(_ service: ResolvedService, updates: [ResolvedStep]) async throws(SandboxError) {
        try await whileMissing(service, doing: "initialising") { () async throws(SandboxError) in try await initialise(service, updates: updates) }
    }

    /// Runs `body` under the golden copy's lock, unless the copy is complete, or becomes complete while this waits
    /// for another process: one process makes it, the others find it done. A stamp always means complete.
    func whileMissing(_ service: ResolvedService, doing: String, _ body: () async throws(SandboxError) -> Void) async throws(SandboxError) {
        let golden = layout.golden(service)
        if DataStamp.read(from: golden) != nil { return }
        let lock = try await FileLock.acquire(layout.goldenRoot.appendingPathComponent(".\(golden.lastPathComponent).lock")) {
            line("waiting for another sandbox process that is \(doing) \(service.name)")
        }
        defer { withExtendedLifetime(lock) {} }
        if DataStamp.read(from: golden) != nil {
            line("made meanwhile by another sandbox process")
            return
        }
        try await body()
    }

    private func initialise(_ service: ResolvedService, updates: [ResolvedStep]) async throws(SandboxError) {
        let golden = layout.golden(service)
        let staging = layout.goldenRoot.appendingPathComponent(".\(golden.lastPathComponent).staging")
        let name = layout.containerName(sandbox: sandbox.name, ["golden", service.name, String(service.freshHash.prefix(8))])
        try await removeLeftover(name)
        try await removeLeftover(name + "-init")
        try FileSystem.remove(staging)
        try FileSystem.ensureDirectory(staging)
        try FileSystem.checkWritable(staging)

        var stamp = DataStamp(engine: service.spec.engine, version: service.spec.version, imageHash: service.imageHash,
                              freshHash: service.freshHash, setupHash: service.setupHash, user: service.spec.user,
                              password: service.spec.user == nil ? nil : InstanceSecrets.generate(), updates: [:])
        var labels = layout.labels(sandbox: sandbox.name)
        labels[Label.instance] = "golden"
        labels[Label.role] = "golden"
        labels[Label.service] = service.name
        do {
            try await initialise(service, stamp: stamp, staging: staging, name: name + "-init", labels: labels)
            try await setUp(service, updates: updates, stamp: &stamp, staging: staging, name: name, labels: labels)
        } catch {
            try? FileSystem.remove(staging)
            throw error
        }
        Readiness.clear(staging)
        FileSystem.syncFilesystem(staging)
        try stamp.write(to: staging)
        try FileSystem.move(staging, to: golden)
    }

    /// The image recipe's `init`, in a throwaway container with no network; the script (it holds the password)
    /// reaches the container on standard input.
    func initialise(_ service: ResolvedService, stamp: DataStamp, staging: URL, name: String, labels: [String: String]) async throws(SandboxError) {
        guard !service.spec.initSteps.isEmpty else { return }
        var script = "set -e"
        for step in service.spec.initSteps { script += "\n" + (try Rendering.command(step, spec: service.spec, stamp: stamp)) }
        var spec = DockerCommand.RunSpec(name: name, image: service.imageTag, labels: labels)
        spec.environment = ["SANDBOX_UID": String(uid), "SANDBOX_GID": String(gid)]
        spec.mounts = [.init(staging.path, at: service.spec.stateFolder)]
        spec.network = "none"
        spec.detached = false
        spec.remove = true
        spec.script = script
        do {
            _ = try await docker.stream(.run(spec), line: line)
        } catch {
            if error.code == .engineUnreachable || error.code == .dockerMissing { throw error }
            throw SandboxError(.initFailed, "initialising a data dir for service \(service.name) failed",
                               fix: "fix the 'init' commands of image recipe \(service.imageTag) "
                                   + "(the output is above and in .sandbox/\(layout.instance)/logs/); "
                                   + "nothing was kept, so `sandbox up` starts over",
                               detail: error.detail)
        }
    }

    /// Setup, then the update steps every copy shares, against the service running in a private container;
    /// then a clean stop, so the copy is consistent.
    func setUp(_ service: ResolvedService, updates: [ResolvedStep], stamp: inout DataStamp, staging: URL, name: String,
               labels: [String: String]) async throws(SandboxError) {
        guard !service.setup.isEmpty || !updates.isEmpty else { return }
        var spec = try DockerCommand.RunSpec.service(service, name: name, labels: labels, mounts: [.init(staging.path, at: service.spec.stateFolder)],
                                                     uid: uid, gid: gid)
        spec.network = "none"
        try await docker.run(.run(spec))
        do {
            try await Readiness(docker: docker).wait(container: name, service: service, folder: staging)
            let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: ports, stamps: [service.name: stamp])
            for step in service.setup {
                line("setup: \(step.title)")
                try await StepRunner(docker: docker).run(step, script: try rendering.step(step, service: service), container: name,
                                                         service: service, recipe: sandbox.recipePath, line: line)
            }
            for step in updates {
                line("update, once for every copy: \(step.title)")
                try await StepRunner(docker: docker).run(step, script: try rendering.step(step, service: service), container: name,
                                                         service: service, recipe: sandbox.recipePath, line: line)
                stamp.updates[step.hash] = step.title
            }
            try await docker.run(.stop([name], timeout: service.spec.stopTimeout))
            try await docker.run(.remove([name]))
        } catch {
            try? await docker.forceRemove([name])
            throw error
        }
    }

    /// Removes a container left by an interrupted run, if (and only if) its labels say it is this checkout's.
    func removeLeftover(_ name: String) async throws(SandboxError) {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: layout.checkout.id, Label.role: "golden"]))
        if out.stdout.contains("\"Names\":\"\(name)\"") {
            try await docker.forceRemove([name])
        }
    }

    package init(docker: Docker, layout: InstanceLayout, sandbox: ResolvedSandbox, uid: UInt32, gid: UInt32, ports: [String: Int] = [:],
                 line: @escaping @Sendable (String) -> Void) {
        self.docker = docker
        self.layout = layout
        self.sandbox = sandbox
        self.uid = uid
        self.gid = gid
        self.ports = ports
        self.line = line
    }
}
