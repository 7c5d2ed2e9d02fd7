import Foundation

/// A sandbox recipe with every reference followed, every file read and every hash computed.
/// Planning and applying work only from this.
package struct ResolvedSandbox: Sendable, Equatable {
    package var name: String
    package var owner: String
    package var recipePath: String
    /// Images in build order: every base before the images built from it.
    package var images: [ResolvedImage]
    package var services: [ResolvedService]
    package var env: [SandboxRecipe.EnvEntry]

    package func image(_ tag: String) -> ResolvedImage? { images.first { $0.tag == tag } }

    /// Every image tag the sandbox needs, external bases included, in build order: what one `docker image inspect` asks.
    package var imageTags: [String] {
        var tags: [String] = []
        for image in images {
            if !tags.contains(image.tag) { tags.append(image.tag) }
            if case let .external(base)? = image.base, !tags.contains(base) { tags.append(base) }
        }
        return tags
    }
    package func service(_ name: String) -> ResolvedService? { services.first { $0.name == name } }
}

package struct ResolvedImage: Sendable, Equatable {
    package enum Base: Sendable, Equatable {
        /// Another recipe's image, built first.
        case recipe(tag: String)
        /// An image from outside: present locally, pulled, or (with a bootstrap recipe) made from a Debian mirror.
        case external(String)
    }

    package var recipe: ImageRecipe
    package var tag: String
    /// Content hash of everything that goes into the image, stored as a label.
    package var hash: String
    /// nil for a bootstrapped base image.
    package var base: Base?
    /// Absolute paths of the files `copy` steps bring in, by their `src`.
    package var files: [String: String]
    /// The checkout folder it is built from (`context:`), with every file the build sees.
    package var context: BuildContext? = nil
    /// The content hash without the files of a service's live folder (set when one mounts it over the context): an
    /// instance brought up with `--live` takes an image that differs only there as current.
    package var liveHash: String? = nil
}

package struct ResolvedService: Sendable, Equatable {
    package var name: String
    package var imageTag: String
    package var imageHash: String
    package var spec: ServiceSpec
    package var actions: [String: ImageRecipe.Action]
    package var hostPort: Int?
    package var publish: String
    package var setup: [ResolvedStep]
    package var update: [ResolvedStep]
    /// Hash of everything a fresh, set-up data dir depends on: image, init and setup steps.
    package var freshHash: String
    package var setupHash: String
    /// Image recipes that run the same engine at other versions, for upgrading data an older one made.
    package var otherVersions: [EngineVersion] = []
    /// Services that must be ready, with their update steps applied, before this one starts: its `depends-on` and
    /// every service its `env` names.
    package var dependsOn: [String] = []
    /// The service's own environment (the network's view of the other services).
    package var env: [SandboxRecipe.EnvEntry] = []
    /// The checkout folder mounted for instances brought up with `--live`.
    package var live: SandboxRecipe.Live?

    /// Set on a service whose recipe says `leases:`: the databases tests may borrow copies of, and how.
    package var leases: LeaseSettings?
    /// Set on a lease server (`db.leases`): the service whose seeded databases it holds. It starts from the same golden
    /// copy and takes the same update steps, so its databases stay in the seeded state; copies are made there, never in
    /// the service's own server.
    package var lendsFor: String?

    /// Whether it keeps data (a data dir, golden copies, snapshots, resets); a cache or an application does not.
    package var hasData: Bool { spec.data != nil }
    /// Whether its data is the instance's own: what reset, restore and snapshots replace. A lease server's is not (its
    /// copies belong to the tests that borrowed them).
    package var holdsInstanceData: Bool { hasData && lendsFor == nil }

    /// The lease server of service `name`: a name no recipe can give a service.
    package static func leaseServer(of name: String) -> String { name + ".leases" }

    /// The same service run by another version's image: what an upgrade starts on the old data.
    package func running(_ version: EngineVersion) -> ResolvedService {
        var old = self
        old.imageTag = version.imageTag
        old.imageHash = version.imageHash
        old.spec = version.spec
        old.actions = version.actions
        old.otherVersions = []
        return old
    }
}

/// An image recipe that runs a service's engine at another version.
package struct EngineVersion: Sendable, Equatable {
    package var imageTag: String
    package var imageHash: String
    package var spec: ServiceSpec
    package var actions: [String: ImageRecipe.Action]
    /// The images it is built from, in build order, itself last.
    package var images: [ResolvedImage]
}

/// One setup or update step, ready to run.
package struct ResolvedStep: Sendable, Equatable, Codable {
    /// How people see it: `sql demo/migrations/0002.sql`.
    package var title: String
    package var action: String
    /// The command to run in the service container (image-recipe references).
    package var command: Template
    /// Parameter values (sandbox-recipe references), substituted into `command`.
    package var params: [String: Template]
    /// Absolute path of the file fed to standard input.
    package var stdinFile: String?
    package var hash: String
    package var location: SourceLocation
    /// True when the step's text depends on the instance (`{instance}`, a service's host port, host or URL,
    /// or `{env.X}`): it cannot be applied once in the golden copy and must run in each instance.
    package var perInstance: Bool = false

    /// References a step may use without depending on which instance runs it.
    static func isPerInstance(_ references: [String]) -> Bool {
        references.contains { ref in
            if ref == "instance" || ref.hasPrefix("env.") { return true }
            let parts = ref.split(separator: ".", maxSplits: 1)
            return parts.count == 2 && ["port", "host", "url"].contains(String(parts[1]))
        }
    }

    package init(title: String, action: String, command: Template, params: [String: Template], stdinFile: String? = nil, hash: String,
                 location: SourceLocation, perInstance: Bool = false) {
        self.title = title
        self.action = action
        self.command = command
        self.params = params
        self.stdinFile = stdinFile
        self.hash = hash
        self.location = location
        self.perInstance = perInstance
    }
}
