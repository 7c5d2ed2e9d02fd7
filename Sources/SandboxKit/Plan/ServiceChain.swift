import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

extension Planner {
    /// One service's chain, each action after the one before it: its data (a fresh copy, or a notice), its container
    /// (kept, started, or made anew, its environment file written first), its credentials, then the update steps its
    /// data has not had. A service without data has only its container.
    func serviceActions(_ service: ResolvedService, _ observed: ObservedState, problems: inout [Plan.Problem]) -> [Plan.Action] {
        let target = Plan.Action.Target.service(service.name)
        let container = observed.containers[service.name]
        var steps: [Plan.Action] = []

        if let port = observed.portConflicts[service.name] {
            problems.append(.init(.portTaken, Messages.pinnedPortTaken(service.name, port: port, address: service.publish),
                                  fix: Messages.pinnedPortFix(service.name, port: port, recipe: sandbox.recipePath)))
            return []
        }
        guard let port = observed.ports[service.name] else {
            problems.append(.init(.portTaken, "service \(service.name): no free host port found", fix: Messages.freePorts))
            return []
        }
        var freshData = false
        if service.hasData {
            switch dataActions(service, observed, problems: &problems) {
            case nil: return []
            case let (fresh, notice)?:
                freshData = fresh
                steps += notice
            }
        }

        let wanted: ContainerSpec
        do { wanted = try containerSpec(service, port: port.port, live: isLive(observed), imageHash: imageHash(service, observed)) } catch {
            problems.append(.init(error.code, "service \(service.name): \(error.message)", fix: error.fix ?? "fix the image recipe"))
            return []
        }
        var create = false
        var retired: ObservedContainer?
        var containerCause = ""
        let envStale = !observed.serviceEnvCurrent.contains(service.name)
        if let container {
            let cause: String?
            if freshData {
                cause = "data dir missing"
            } else if observed.interrupted {
                cause = "the previous command was interrupted while it worked on the container"
            } else if container.configHash != wanted.configHash {
                if container.imageHash != imageHash(service, observed) { cause = imageChange(service, observed) }
                else if let change = port.change { cause = change }
                else if service.live != nil, isLive(observed) != (observed.saved?.live ?? false) {
                    cause = isLive(observed) ? "its live folder is mounted now (--live)" : "its live folder is no longer mounted (--no-live)"
                } else { cause = "container settings changed" }
            } else {
                cause = nil
            }
            if let cause {
                // Data kept and the container merely out of date: the old one is set aside, and brought back should the
                // new one fail, so a failed update leaves the service as it ran.
                let keep = !freshData && !observed.interrupted && !observed.dataReplaced.contains(service.name)
                steps.append(.init(target: target, kind: keep ? .retireContainer(container) : .removeContainer(container, force: false), cause: cause))
                retired = keep ? container : nil
                create = true
                containerCause = cause
            } else if !container.running {
                steps.append(.init(target: target, kind: .writeServiceEnv(service), cause: "its environment, as the instance's network sees the others"))
                steps.append(.init(target: target, kind: .startContainer(container), cause: "container \(container.state)"))
                steps.append(.init(target: target, kind: .waitReady(service), cause: "container started"))
            } else if envStale && !service.env.isEmpty {
                steps.append(.init(target: target, kind: .writeServiceEnv(service), cause: "the values its 'env' names changed"))
                steps.append(.init(target: target, kind: .restartContainer(container), cause: "it reads its environment when it starts"))
                steps.append(.init(target: target, kind: .waitReady(service), cause: "container restarted"))
            }
        } else {
            create = true
            containerCause = freshData || !service.hasData && observed.saved == nil ? "new instance" : "container missing"
        }
        if freshData { steps += freshDataActions(service, observed) }
        if create {
            steps.append(.init(target: target, kind: .writeServiceEnv(service), cause: "its environment, as the instance's network sees the others"))
            steps.append(.init(target: target, kind: .createContainer(wanted), cause: containerCause))
            steps.append(.init(target: target, kind: .waitReady(service), cause: "container created"))
            if let retired {
                var restore = Plan.Action(target: target, kind: .restoreContainer(retired, service: service),
                                          cause: "the new container failed: the one it replaced runs again, as it was")
                restore.onFailureOf = [steps.count - 2, steps.count - 1]
                steps.append(restore)
                steps.append(.init(target: target, kind: .removeContainer(retired, force: false), cause: "replaced by the new container, which is ready"))
            }
        }
        if service.hasData { steps += credentialsAndUpdates(service, observed, freshData: freshData) }
        // A lease server that started, or whose seeded state changed, has its pool made (anew) before `up` finishes.
        if let lender = service.lendsFor.flatMap(sandbox.service), steps.contains(where: { $0.changes }) {
            steps.append(.init(target: target, kind: .fillLeases(lender, server: service),
                               cause: "copies of the seeded state ready to lend (\(lender.leases?.pool ?? 0) of each database)"))
        }
        if !steps.contains(where: { $0.changes }) {
            steps.append(.init(target: target, kind: .nothing, cause: "up to date"))
        }
        return steps
    }

    /// Why an image-recipe change recreates the container: the file of the build context that changed, when the image
    /// is built from the checkout and the last build left its list of files.
    func imageChange(_ service: ResolvedService, _ observed: ObservedState) -> String {
        guard let image = sandbox.image(service.imageTag), let context = image.context,
              let before = observed.containers[service.name]?.imageHash.flatMap({ observed.imageManifests[$0] }),
              let change = BuildContext.change(from: before, to: context.files) else { return "image recipe changed" }
        return "\(context.display)/\(change)"
    }

    /// The state of a service's data dir: nil when it refuses the plan (a problem is added), else whether it is made
    /// fresh and any notice about it.
    func dataActions(_ service: ResolvedService, _ observed: ObservedState, problems: inout [Plan.Problem]) -> (Bool, [Plan.Action])? {
        let dir = layout.checkout.display(layout.dataDir(service.name).path)
        switch observed.dataDirs[service.name] ?? .missing {
        case .foreign:
            problems.append(.init(.dataDirMismatch, "service \(service.name): \(dir) exists but was not made by sandbox",
                                  fix: "move it away (nothing is deleted automatically), then `sandbox up` again"))
            return nil
        case let .damaged(reason):
            problems.append(.init(.dataDirDamaged, "service \(service.name): the data dir \(dir) is damaged: \(reason)",
                                  fix: Messages.damagedDataFix(instance: layout.instance)))
            return nil
        case let .ready(stamp):
            switch versionChange(service, stamp, observed) {
            case let .failure(problem)?:
                problems.append(problem)
                return nil
            case .success?:
                // Planned by `upgrade` for `up`; anything else (a restore's or reset's later steps) never gets here with it.
                problems.append(.init(.dataDirMismatch, "service \(service.name): its \(stamp.engine) \(stamp.version) data needs "
                                          + "an upgrade to \(service.spec.version) first",
                                      fix: "run `\(Messages.up(layout.instance))`: it upgrades the data"))
                return nil
            case nil:
                break
            }
            guard stamp.setupHash != service.setupHash else { return (false, []) }
            return (false, [.init(target: .service(service.name),
                                  kind: .notice("setup steps changed since this data dir was set up; "
                                      + "they run only on a fresh data dir (`sandbox reset` to start over)"),
                                  cause: "setup steps changed")])
        case .missing:
            return (true, [])
        }
    }

    /// A fresh data dir: the golden copy made (or pulled) if there is none, then a copy of it.
    func freshDataActions(_ service: ResolvedService, _ observed: ObservedState) -> [Plan.Action] {
        let target = Plan.Action.Target.service(service.name)
        let goldenSteps = Self.sharedUpdates(service)
        var steps: [Plan.Action] = []
        // A lease server whose service gets fresh data in the same plan copies the golden copy that service's chain makes.
        if let lender = service.lendsFor, case .missing = observed.dataDirs[lender] ?? .missing, !observed.golden.contains(service.name) {
            return [.init(target: target, kind: .copyGolden(service), cause: "data dir missing; a copy of the set-up data \(lender) starts from")]
        }
        if !observed.golden.contains(service.name), let found = observed.registry?.golden[service.name] {
            steps.append(.init(target: target, kind: .pullGolden(service, reference: found.reference, updates: found.updates),
                               cause: "no set-up data here for this recipe; the registry has it (checked against its hashes before use)"))
        } else if !observed.golden.contains(service.name) {
            let updates = goldenSteps.isEmpty ? "" : ", then \(goldenSteps.count) update step(s) once for every copy"
            steps.append(.init(target: target, kind: .initGolden(service, updates: goldenSteps),
                               cause: "no set-up data for this recipe yet: init and \(service.setup.count) setup step(s)\(updates), "
                                   + "kept as the golden copy"))
        }
        steps.append(.init(target: target, kind: .copyGolden(service), cause: "data dir missing; a copy of the set-up data"))
        return steps
    }

    /// The instance's own password where the data has another's, then the update steps the data has not had.
    func credentialsAndUpdates(_ service: ResolvedService, _ observed: ObservedState, freshData: Bool) -> [Plan.Action] {
        let target = Plan.Action.Target.service(service.name)
        var steps: [Plan.Action] = []
        if service.actions["set-password"] != nil && (freshData || observed.sharedCredentials.contains(service.name)) {
            steps.append(.init(target: target, kind: .setCredentials(service),
                               cause: freshData ? "a fresh copy has the golden copy's password; this instance gets its own"
                                                : "its password is shared with other copies; this instance gets its own"))
        }
        var applied: [String: String] = [:]
        if case let .ready(stamp)? = observed.dataDirs[service.name] { applied = stamp.updates }
        // A fresh copy of the golden data comes with the update steps the golden copy applied (or will apply).
        let inGolden: Set<String> = !freshData ? []
            : observed.golden.contains(service.name) ? observed.goldenUpdates[service.name] ?? []
            : observed.registry?.golden[service.name]?.updates ?? Set(Self.sharedUpdates(service).map(\.hash))
        for step in service.update where applied[step.hash] == nil && !inGolden.contains(step.hash) {
            let changedBefore = applied.values.contains(step.title)
            steps.append(.init(target: target, kind: .runUpdate(step, service: service),
                               cause: changedBefore ? "update step changed" : "update step is new"))
        }
        return steps
    }
}
