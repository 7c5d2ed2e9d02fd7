import Foundation
import SandboxBase
import SandboxEngine
import SandboxHost
import SandboxPlan
import SandboxOutput
import SandboxApply

extension Instance {
    /// What a fleet's workers pull (docs/fleet.md): every image the sandbox builds, under its content hash and its
    /// readable tag, and each service's golden data, under its fresh hash and the update steps applied to it.
    /// Builds and initialises first what is not here yet. Returns the references pushed.
    package func push(to registry: Registry, reporter: any ProgressReporter) async throws(SandboxError) -> [String] {
        _ = try await build(reporter: reporter)
        let line: @Sendable (String) -> Void = { reporter.report(.message($0)) }
        let golden = GoldenData(docker: docker, layout: layout, sandbox: sandbox, uid: planner.uid, gid: planner.gid, line: line)
        let transfer = RegistryTransfer(docker: docker, line: line)
        var pushed: [String] = []
        for image in sandbox.images where image.recipe.bootstrap == nil {
            let references = [registry.image(tag: image.tag, hash: image.hash), registry.image(tag: image.tag)]
            try await transfer.push(image.tag, as: references)
            pushed += references
        }
        for service in sandbox.services where service.lendsFor == nil {
            if service.setup.contains(where: \.perInstance) {
                line("\(service.name): its set-up data depends on the instance, so each worker makes its own; not pushed")
                continue
            }
            let shared = Planner.sharedUpdates(service)
            try await golden.make(service, updates: shared)
            let folder = layout.golden(service)
            guard let stamp = DataStamp.read(from: folder) else {
                throw SandboxError(.dataDirDamaged, "the golden data of \(service.name) is missing after it was made", fix: "run `sandbox push` again")
            }
            let missing = shared.filter { stamp.updates[$0.hash] == nil }.count
            if missing > 0 {
                line("\(service.name): its golden data predates \(missing) update step(s); workers run them after their copy, as here")
            }
            let reference = registry.golden(owner: sandbox.owner, sandbox: sandbox.name, service: service.name,
                                            freshHash: service.freshHash, updates: Array(stamp.updates.keys))
            try await transfer.pushGolden(folder, stamp: stamp, service: service.name, as: reference)
            pushed.append(reference)
        }
        return pushed
    }
}
