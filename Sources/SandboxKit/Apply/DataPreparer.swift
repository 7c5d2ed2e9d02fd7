import Foundation
import Subprocess

/// Gives a service a fresh, set-up data dir without ever exposing a half-made one:
/// init and setup run once per fresh hash into a staging folder that is renamed into
/// place as the golden copy only when complete; each instance then gets a copy of it,
/// itself staged and renamed.
struct DataPreparer: Sendable {
    var docker: Docker
    var layout: InstanceLayout
    var sandbox: ResolvedSandbox
    var planner: Planner
    var line: @Sendable (String) -> Void

    func prepare(_ service: ResolvedService) async throws(SandboxError) {
        let golden = try await ensureGolden(service)
        let staging = layout.staging(service.name)
        let target = layout.dataDir(service.name)
        try? FileManager.default.removeItem(at: staging)
        try FileSystem.ensureDirectory(layout.root)
        try await Self.copy(golden, to: staging)
        if FileSystem.exists(target) && FileSystem.isEmptyDirectory(target) { try? FileManager.default.removeItem(at: target) }
        try FileSystem.move(staging, to: target)
    }

    /// `cp -a --reflink=auto`: a clone where the filesystem offers one, a plain copy elsewhere.
    static func copy(_ source: URL, to destination: URL) async throws(SandboxError) {
        do {
            let result = try await Subprocess.run(.name("cp"), arguments: ["-a", "--reflink=auto", source.path, destination.path],
                                                  output: .discarded, error: .string(limit: 1 << 16))
            guard result.terminationStatus.isSuccess else {
                throw SandboxError(.io, "copying \(source.path) to \(destination.path) failed: \(result.standardError)",
                                   fix: "check free disk space (`df -h`) and permissions under .sandbox/")
            }
        } catch let error as SandboxError {
            throw error
        } catch {
            throw SandboxError(.io, "cannot run cp: \(error)", fix: "install coreutils")
        }
    }

    /// The golden data dir for the service's fresh hash, made if missing. Only one process makes it.
    func ensureGolden(_ service: ResolvedService) async throws(SandboxError) -> URL {
        let golden = layout.golden(service)
        if DataStamp.read(from: golden) != nil { return golden }
        let lock = try FileLock(layout.goldenRoot.appendingPathComponent(".\(golden.lastPathComponent).lock")) {
            line("waiting for another sandbox process that is initialising \(service.name)")
        }
        defer { withExtendedLifetime(lock) {} }
        if DataStamp.read(from: golden) != nil { return golden }
        if try await makeGolden(service, at: golden, withUpdates: true) { return golden }
        // An update step failed in the golden copy: make it without them. Each instance then runs them itself
        // and reports the failure the usual way (retried on the next `up`).
        _ = try await makeGolden(service, at: golden, withUpdates: false)
        return golden
    }

    /// Init, setup and (with `withUpdates`) the update steps that do not depend on the instance, into staging,
    /// renamed to `golden` when all succeeded. Returns false, with staging discarded, when an update step failed.
    func makeGolden(_ service: ResolvedService, at golden: URL, withUpdates: Bool) async throws(SandboxError) -> Bool {
        let staging = layout.goldenRoot.appendingPathComponent(".\(golden.lastPathComponent).staging")
        let name = "sbx-\(sandbox.name)-\(layout.checkout.id)-golden-\(service.name)-\(service.freshHash.prefix(8))"
        try await removeLeftover(name)
        try await removeLeftover(name + "-init")
        try? FileManager.default.removeItem(at: staging)
        try FileSystem.ensureDirectory(staging)
        try FileSystem.checkWritable(staging)

        var stamp = DataStamp(engine: service.spec.engine, version: service.spec.version, imageHash: service.imageHash,
                              freshHash: service.freshHash, setupHash: service.setupHash, user: service.spec.user,
                              password: service.spec.user == nil ? nil : Self.password(), updates: [:])
        var labels = layout.labels(sandbox: sandbox.name)
        labels[Label.instance] = "golden"
        labels[Label.role] = "golden"
        labels[Label.service] = service.name
        let env = ["SANDBOX_UID": String(planner.uid), "SANDBOX_GID": String(planner.gid)]

        // 1. init, in a throwaway container with no network.
        if !service.spec.initSteps.isEmpty {
            var script = "set -e"
            for step in service.spec.initSteps { script += "\n" + (try Rendering.command(step, spec: service.spec, stamp: stamp)) }
            var spec = DockerCommand.RunSpec(name: name + "-init", image: service.imageTag, labels: labels)
            spec.environment = env
            spec.mounts = [(staging.path, service.spec.data)]
            spec.network = "none"
            spec.detached = false
            spec.remove = true
            spec.command = [script]
            do {
                _ = try await docker.stream(.run(spec), line: line)
            } catch {
                if error.code == .engineUnreachable || error.code == .dockerMissing { throw error }
                throw SandboxError(.initFailed, "initialising a data dir for service \(service.name) failed",
                                   fix: "fix the 'init' commands of image recipe \(service.imageTag) (the output is above and in .sandbox/\(layout.instance)/logs/); nothing was kept, so `sandbox up` starts over",
                                   detail: error.detail)
            }
        }

        // 2. setup, then the update steps every instance would run alike, against the service running in a private container.
        let updates = withUpdates ? service.update.filter { !$0.perInstance } : []
        if !service.setup.isEmpty || !updates.isEmpty {
            var spec = try DockerCommand.RunSpec.service(service, name: name, labels: labels, dataDir: staging, stamp: stamp,
                                                         uid: planner.uid, gid: planner.gid)
            spec.network = "none"
            try await docker.run(.run(spec))
            do {
                try await Readiness(docker: docker).wait(container: name, service: service, dataDir: staging)
                let rendering = Rendering(sandbox: sandbox, instance: layout.instance, ports: InstanceState.read(layout)?.ports ?? [:],
                                          stamps: [service.name: stamp])
                for step in service.setup {
                    line("setup: \(step.title)")
                    let script = try rendering.step(step, service: service)
                    try await StepRunner(docker: docker).run(step, script: script, container: name, service: service,
                                                             recipe: sandbox.recipePath, line: line)
                }
                for step in updates {
                    line("update, once for every copy: \(step.title)")
                    let script = try rendering.step(step, service: service)
                    do {
                        try await StepRunner(docker: docker).run(step, script: script, container: name, service: service,
                                                                 recipe: sandbox.recipePath, line: line)
                    } catch where error.code == .stepFailed {
                        line("update step failed in the golden copy; making it again without update steps")
                        _ = try? await docker.run(.remove([name], force: true), check: false)
                        try? FileManager.default.removeItem(at: staging)
                        return false
                    }
                    stamp.updates[step.hash] = step.title
                }
                // A clean stop, so the copy is consistent.
                try await docker.run(.stop([name], timeout: service.spec.stopTimeout))
                try await docker.run(.remove([name]))
            } catch {
                _ = try? await docker.run(.remove([name], force: true), check: false)
                throw error
            }
        }
        Readiness.clear(staging)
        try stamp.write(to: staging)
        try FileSystem.move(staging, to: golden)
        return true
    }

    /// Removes a container left by an interrupted run, if (and only if) its labels say it is this checkout's.
    func removeLeftover(_ name: String) async throws(SandboxError) {
        let out = try await docker.run(.listContainers(labels: [Label.checkout: layout.checkout.id, Label.role: "golden"]))
        if out.stdout.contains("\"Names\":\"\(name)\"") {
            try await docker.run(.remove([name], force: true))
        }
    }

    /// 24 random letters and digits: safe in URLs and shell words without escaping.
    static func password() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
