import Foundation
import SandboxBase
import SandboxRecipes
import SandboxObserve

/// What a command will do to an instance, in order, each step with the reason for it.
/// `sandbox plan` prints it; the executor carries out exactly these actions and nothing else.
package struct Plan: Sendable, Equatable, CustomStringConvertible {
    package var actions: [Action]
    /// Reasons the command must not proceed at all; each names the fix.
    package var problems: [Problem]

    package init(actions: [Action], problems: [Problem] = []) {
        self.actions = actions
        self.problems = problems
    }

    package struct Problem: Sendable, Equatable, CustomStringConvertible {
        package var code: SandboxError.Code
        package var message: String
        package var fix: String
        package var description: String { "\(message); \(fix)" }

        package init(_ code: SandboxError.Code, _ message: String, fix: String) {
            self.code = code
            self.message = message
            self.fix = fix
        }
    }

    package struct Action: Sendable, Equatable, CustomStringConvertible {
        package enum Target: Sendable, Equatable {
            case image(String)
            case service(String)
            /// The whole instance: data switches and deletions that must happen for every service at once.
            case instance(String)
        }

        /// Each kind carries everything the executor needs to perform it.
        package enum Kind: Sendable, Equatable {
            /// Make an external base image present: local, pulled, or bootstrapped from `bootstrap`.
            case ensureBase(tag: String, bootstrap: ImageRecipe?)
            case build(ResolvedImage)
            /// Pull the image by its content hash from a registry and tag it as the recipe's tag.
            case pullImage(ResolvedImage, reference: String)
            /// Pull a service's golden data (packed as an image) and check its hashes before keeping it.
            case pullGolden(ResolvedService, reference: String, updates: Set<String>)
            /// Stop (unless `force`, which kills) and remove a container.
            case removeContainer(ObservedContainer, force: Bool)
            /// Kill and remove several containers at once: their data is being replaced.
            case removeContainers([ObservedContainer])
            /// Init, setup and the update steps every copy shares, into a golden data dir kept for later copies.
            case initGolden(ResolvedService, updates: [ResolvedStep])
            /// A fresh data dir for a service that has none: a copy of the golden one, staged and renamed into place.
            case copyGolden(ResolvedService)
            /// A copy of `source` staged beside the service's data dir, switched in later by `switchData`.
            case stageData(service: String, source: URL)
            /// Staged data dirs replace the current ones, for every named service in one atomic step.
            case switchData(services: [String])
            /// Every service's data copied into a new snapshot, with the `stop` containers stopped for a consistent
            /// copy; `restart` are started again afterwards (the others are about to be upgraded).
            case saveSnapshot(name: String, stop: [ObservedContainer], restart: [ObservedContainer])
            /// A service's data upgraded to a newer engine version into its staging folder, switched in by `switchData`.
            case upgradeData(DataUpgrade)
            /// The data dirs `switchData` replaced are deleted.
            case deleteReplacedData
            /// The instance's data dirs, env file, state and secrets are deleted (snapshots are kept).
            case deleteData
            case startContainer(ObservedContainer)
            case createContainer(ContainerSpec)
            case waitReady(ResolvedService)
            /// The login user gets the instance's own password (the recipe's `set-password` action).
            case setCredentials(ResolvedService)
            case runUpdate(ResolvedStep, service: ResolvedService)
            case notice(String)
            case nothing
        }

        package var target: Target
        package var kind: Kind
        package var cause: String

        package init(target: Target, kind: Kind, cause: String) {
            self.target = target
            self.kind = kind
            self.cause = cause
        }

        /// The words actions are named by in plans, `--json` events and the page's step map (which, like docs/json.md,
        /// must word every one: ServeUnitTests).
        package enum Verb: String, CaseIterable, Sendable {
            case EnsureBaseImage, Build, PullImage, PullGolden, RemoveContainer, RemoveContainers, InitGolden, CopyGoldenData
            case StageData, SwitchData, SaveSnapshot, UpgradeData, DeleteReplacedData, DeleteData, StartContainer
            case CreateContainer, WaitReady, SetCredentials, RunUpdate, Notice, Nothing
        }

        package var verb: Verb {
            switch kind {
            case .ensureBase: return .EnsureBaseImage
            case .build: return .Build
            case .pullImage: return .PullImage
            case .pullGolden: return .PullGolden
            case .removeContainer: return .RemoveContainer
            case .removeContainers: return .RemoveContainers
            case .initGolden: return .InitGolden
            case .copyGolden: return .CopyGoldenData
            case .stageData: return .StageData
            case .switchData: return .SwitchData
            case .saveSnapshot: return .SaveSnapshot
            case .upgradeData: return .UpgradeData
            case .deleteReplacedData: return .DeleteReplacedData
            case .deleteData: return .DeleteData
            case .startContainer: return .StartContainer
            case .createContainer: return .CreateContainer
            case .waitReady: return .WaitReady
            case .setCredentials: return .SetCredentials
            case .runUpdate: return .RunUpdate
            case .notice: return .Notice
            case .nothing: return .Nothing
            }
        }

        /// The verb and what distinguishes this action from others of its kind.
        package var name: String {
            let verb = verb.rawValue
            switch kind {
            case let .removeContainer(_, force): return force ? verb + " force" : verb
            case let .removeContainers(containers): return verb + " " + containers.map(\.service).joined(separator: ",")
            case let .initGolden(_, updates): return updates.isEmpty ? verb : verb + " updates=\(updates.count)"
            case let .switchData(services): return verb + " " + services.joined(separator: ",")
            case let .saveSnapshot(name, _, _): return verb + " \(name)"
            case let .upgradeData(upgrade): return verb + " \(upgrade.fromVersion)->\(upgrade.toVersion) \(upgrade.method.rawValue)"
            case let .createContainer(spec): return verb + " port=\(spec.port)"
            case let .runUpdate(step, _): return verb + " \(step.title)"
            default: return verb
            }
        }

        package var targetText: String {
            switch target {
            case let .image(tag): return "image:\(tag)"
            case let .service(name): return "service:\(name)"
            case let .instance(name): return "instance:\(name)"
            }
        }

        package var description: String { "\(targetText), \(name), \(cause)" }

        /// True for the steps that change something.
        package var changes: Bool {
            switch kind {
            case .nothing, .notice: return false
            default: return true
            }
        }
    }

    package var isNoOp: Bool { problems.isEmpty && !actions.contains { $0.changes } }

    /// The text `sandbox plan` prints (`PlanResult.text`): golden text in PlannerTests.
    package var description: String { PlanResult(self).text }

    /// The problems as one error, each with its fix.
    package var refusal: SandboxError? {
        guard let first = problems.first else { return nil }
        if problems.count == 1 { return SandboxError(first.code, first.message, fix: first.fix) }
        return SandboxError(first.code, "cannot proceed:\n" + problems.map { "  - \($0.message)" }.joined(separator: "\n"),
                            fix: problems.map(\.fix).joined(separator: "; "))
    }
}
