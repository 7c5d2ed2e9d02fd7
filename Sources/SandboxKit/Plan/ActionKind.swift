import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxObserve

extension Plan.Action {
    /// Each kind carries everything the executor needs to perform it.
    package enum Kind: Sendable, Equatable {
        // Recovery: what a killed command left, finished or undone before anything else.
        /// The deletion an interrupted `destroy --delete-data` journalled is finished.
        case finishDeletion
        /// A data switch whose journal was written is finished: the staged data goes in.
        case finishSwitch(services: [String])
        /// Folders and files an interrupted command left (paths relative to the instance's folder) are deleted.
        case discard([String])
        /// A state file that cannot be read is renamed aside (`NAME.damaged`), so `--repair` records it anew.
        case setAside(String)

        // Images.
        /// Make an external base image present: local, pulled, or bootstrapped from `bootstrap`.
        case ensureBase(tag: String, bootstrap: ImageRecipe?)
        case build(ResolvedImage)
        /// Pull the image by its content hash from a registry and tag it as the recipe's tag.
        case pullImage(ResolvedImage, reference: String)

        // Data.
        /// Pull a service's golden data (packed as an image) and check its hashes before keeping it.
        case pullGolden(ResolvedService, reference: String, updates: Set<String>)
        /// Init, setup and the update steps every copy shares, into a golden data dir kept for later copies.
        case initGolden(ResolvedService, updates: [ResolvedStep])
        /// A fresh data dir for a service that has none: a copy of the golden one, staged and renamed into place.
        case copyGolden(ResolvedService)
        /// A copy of `source` staged beside the service's data dir, switched in later by `switchData`.
        case stageData(service: String, source: URL)
        /// Staged data dirs replace the current ones, for every named service in one atomic step.
        case switchData(services: [String])
        /// A compensation: staged copies a failed reset or restore made are deleted, unless their switch was committed.
        case discardStaged(services: [String])
        /// Every named service's data copied into a new snapshot (their containers stopped before, by the plan).
        case saveSnapshot(name: String, services: [String])
        case deleteSnapshot(name: String)
        /// A service's data upgraded to a newer engine version into its staging folder, switched in by `switchData`.
        case upgradeData(DataUpgrade)
        /// A compensation: an upgrade's staged result thrown away, and the service's old container running again.
        case abandonUpgrade(DataUpgrade)
        /// The data dirs `switchData` replaced are deleted.
        case deleteReplacedData(services: [String])
        /// The instance's data dirs, env file, state and secrets are deleted (snapshots are kept).
        case deleteData

        // Containers.
        /// The instance's network, made if it is not there yet (its services find each other on it by name).
        case ensureNetwork(name: String)
        /// The instance's network removed (no container of it is left).
        case removeNetwork(name: String)
        /// The service's run folder made, with its environment file (the values its `env` names now).
        case writeServiceEnv(ResolvedService)
        /// Stop (unless `force`, which kills) and remove a container.
        case removeContainer(ObservedContainer, force: Bool)
        /// Stop a container and rename it aside (`NAME-retired`), so a new one takes its name and port; it is removed
        /// once the new one is ready, or brought back if the new one fails.
        case retireContainer(ObservedContainer)
        /// A compensation: the new container (by name) removed, the retired one renamed back and started.
        case restoreContainer(ObservedContainer, service: ResolvedService)
        /// Kill and remove several containers at once: their data is being replaced.
        case removeContainers([ObservedContainer])
        /// Stop containers cleanly and keep them (for a consistent copy of their data).
        case stopContainers([ObservedContainer])
        case startContainer(ObservedContainer)
        /// Stop cleanly, then start again (a live folder's edits, a changed environment).
        case restartContainer(ObservedContainer)
        case createContainer(ContainerSpec)
        case waitReady(ResolvedService)
        /// The login user gets the instance's own password (the recipe's `set-password` action).
        case setCredentials(ResolvedService)
        case runUpdate(ResolvedStep, service: ResolvedService)
        /// A lending service's pool made ready on its lease server (`server`): what a killed command left and stale copies
        /// dropped, copies prepared from the seeded state as it is now, `pool` of each database made.
        case fillLeases(ResolvedService, server: ResolvedService)

        // What the instance records.
        /// `.sandbox/<instance>/instance.json` written as planned: the sandbox, ports, commit and engine.
        case writeState(InstanceState)
        /// `.sandbox/<instance>/env` written from the data's credentials and the planned ports.
        case writeEnv

        case notice(String)
        case nothing
    }

    /// The words actions are named by in plans, `--json` events and the page's step map (which, like docs/json.md,
    /// must word every one: ServeUnitTests).
    package enum Verb: String, CaseIterable, Sendable {
        case FinishDeletion, FinishSwitch, Discard, SetAside
        case EnsureBaseImage, Build, PullImage
        case PullGolden, InitGolden, CopyGoldenData, StageData, SwitchData, DiscardStaged, SaveSnapshot, DeleteSnapshot
        case UpgradeData, AbandonUpgrade, DeleteReplacedData, DeleteData
        case EnsureNetwork, RemoveNetwork, WriteServiceEnv
        case RemoveContainer, RetireContainer, RestoreContainer, RemoveContainers, StopContainers, StartContainer, RestartContainer, CreateContainer
        case WaitReady, SetCredentials, RunUpdate, FillLeasePool
        case WriteState, WriteEnv, Notice, Nothing
    }

    package var verb: Verb {
        switch kind {
        case .finishDeletion: return .FinishDeletion
        case .finishSwitch: return .FinishSwitch
        case .discard: return .Discard
        case .setAside: return .SetAside
        case .ensureBase: return .EnsureBaseImage
        case .build: return .Build
        case .pullImage: return .PullImage
        case .pullGolden: return .PullGolden
        case .initGolden: return .InitGolden
        case .copyGolden: return .CopyGoldenData
        case .stageData: return .StageData
        case .switchData: return .SwitchData
        case .discardStaged: return .DiscardStaged
        case .saveSnapshot: return .SaveSnapshot
        case .deleteSnapshot: return .DeleteSnapshot
        case .upgradeData: return .UpgradeData
        case .abandonUpgrade: return .AbandonUpgrade
        case .deleteReplacedData: return .DeleteReplacedData
        case .deleteData: return .DeleteData
        case .ensureNetwork: return .EnsureNetwork
        case .removeNetwork: return .RemoveNetwork
        case .writeServiceEnv: return .WriteServiceEnv
        case .restartContainer: return .RestartContainer
        case .removeContainer: return .RemoveContainer
        case .retireContainer: return .RetireContainer
        case .restoreContainer: return .RestoreContainer
        case .removeContainers: return .RemoveContainers
        case .stopContainers: return .StopContainers
        case .startContainer: return .StartContainer
        case .createContainer: return .CreateContainer
        case .waitReady: return .WaitReady
        case .setCredentials: return .SetCredentials
        case .runUpdate: return .RunUpdate
        case .fillLeases: return .FillLeasePool
        case .writeState: return .WriteState
        case .writeEnv: return .WriteEnv
        case .notice: return .Notice
        case .nothing: return .Nothing
        }
    }

    /// The verb and what distinguishes this action from others of its kind.
    package var name: String {
        let verb = verb.rawValue
        switch kind {
        case let .removeContainer(_, force): return force ? verb + " force" : verb
        case let .removeContainers(containers), let .stopContainers(containers): return verb + " " + containers.map(\.service).joined(separator: ",")
        case let .initGolden(_, updates): return updates.isEmpty ? verb : verb + " updates=\(updates.count)"
        case let .switchData(services), let .finishSwitch(services), let .discardStaged(services): return verb + " " + services.joined(separator: ",")
        case let .saveSnapshot(name, _), let .deleteSnapshot(name): return verb + " \(name)"
        case let .upgradeData(upgrade), let .abandonUpgrade(upgrade):
            return verb + " \(upgrade.fromVersion)->\(upgrade.toVersion) \(upgrade.method.rawValue)"
        case let .createContainer(spec): return verb + " port=\(spec.port)"
        case let .setAside(file): return verb + " \(file)"
        case let .runUpdate(step, _): return verb + " \(step.title)"
        default: return verb
        }
    }

    /// Everything the action is carried out with, as one line (no secret is in any of it): what `plan --json` and the
    /// `start`/`done` events carry as `arguments`, so a test can hold what ran to what was planned, payload and all.
    package var arguments: String {
        switch kind {
        case .finishDeletion, .writeEnv, .deleteData, .notice, .nothing: return ""
        case let .finishSwitch(services), let .switchData(services), let .discardStaged(services), let .deleteReplacedData(services):
            return services.joined(separator: ",")
        case let .discard(paths): return paths.joined(separator: " ")
        case let .setAside(file): return file
        case let .ensureBase(tag, bootstrap): return tag + (bootstrap.map { " bootstrap=\($0.bootstrap?.suite ?? $0.name)" } ?? "")
        case let .build(image): return "\(image.tag) hash=\(image.hash.prefix(12))"
        case let .pullImage(image, reference): return "\(image.tag) from=\(reference)"
        case let .pullGolden(service, reference, updates): return "\(service.name) from=\(reference) updates=\(updates.count)"
        case let .initGolden(service, updates): return "\(service.name) fresh=\(service.freshHash.prefix(12)) updates=\(updates.count)"
        case let .copyGolden(service): return "\(service.name) fresh=\(service.freshHash.prefix(12))"
        case let .stageData(service, source): return "\(service) from=\(source.lastPathComponent)"
        case let .saveSnapshot(name, services): return "\(name) services=\(services.joined(separator: ","))"
        case let .deleteSnapshot(name): return name
        case let .upgradeData(u), let .abandonUpgrade(u): return "\(u.service.name) \(u.from.engine) \(u.fromVersion)->\(u.toVersion) \(u.method.rawValue)"
        case let .removeContainer(c, force): return c.name + (force ? " force" : "")
        case let .removeContainers(cs), let .stopContainers(cs): return cs.map(\.name).joined(separator: ",")
        case let .startContainer(c), let .restartContainer(c), let .retireContainer(c): return c.name
        case let .restoreContainer(c, _): return c.name
        case let .ensureNetwork(name), let .removeNetwork(name): return name
        case let .writeServiceEnv(service): return "\(service.name) names=\(service.env.map(\.name).joined(separator: ","))"
        case let .createContainer(spec): return "\(spec.run.name) image=\(spec.run.image) port=\(spec.port) config=\(spec.configHash.prefix(12))"
        case let .waitReady(service), let .setCredentials(service): return service.name
        case let .runUpdate(step, service): return "\(service.name) step=\(step.hash.prefix(12))"
        case let .fillLeases(service, server):
            return "\(server.name) databases=\(service.leases?.databases.joined(separator: ",") ?? "") pool=\(service.leases?.pool ?? 0)"
        case let .writeState(state):
            let ports = state.ports.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "sandbox=\(state.sandbox) ports=\(ports) commit=\(state.commit.map { String($0.prefix(12)) } ?? "none")"
        }
    }
}
