import Foundation

/// A sandbox recipe with every reference followed, every file read and every hash computed.
/// Planning and applying work only from this.
public struct ResolvedSandbox: Sendable, Equatable {
    public var name: String
    public var owner: String
    public var recipePath: String
    /// Images in build order: every base before the images built from it.
    public var images: [ResolvedImage]
    public var services: [ResolvedService]
    public var env: [SandboxRecipe.EnvEntry]

    public func image(_ tag: String) -> ResolvedImage? { images.first { $0.tag == tag } }

    /// Every image tag the sandbox needs, external bases included, in build order: what one `docker image inspect` asks.
    public var imageTags: [String] {
        var tags: [String] = []
        for image in images {
            if !tags.contains(image.tag) { tags.append(image.tag) }
            if case let .external(base)? = image.base, !tags.contains(base) { tags.append(base) }
        }
        return tags
    }
    public func service(_ name: String) -> ResolvedService? { services.first { $0.name == name } }
}

public struct ResolvedImage: Sendable, Equatable {
    public enum Base: Sendable, Equatable {
        /// Another recipe's image, built first.
        case recipe(tag: String)
        /// An image from outside: present locally, pulled, or (with a bootstrap recipe) made from a Debian mirror.
        case external(String)
    }

    public var recipe: ImageRecipe
    public var tag: String
    /// Content hash of everything that goes into the image, stored as a label.
    public var hash: String
    /// nil for a bootstrapped base image.
    public var base: Base?
    /// Absolute paths of the files `copy` steps bring in, by their `src`.
    public var files: [String: String]
}

public struct ResolvedService: Sendable, Equatable {
    public var name: String
    public var imageTag: String
    public var imageHash: String
    public var spec: ServiceSpec
    public var actions: [String: ImageRecipe.Action]
    public var hostPort: Int?
    public var publish: String
    public var setup: [ResolvedStep]
    public var update: [ResolvedStep]
    /// Hash of everything a fresh, set-up data dir depends on: image, init and setup steps.
    public var freshHash: String
    public var setupHash: String
    /// Image recipes that run the same engine at other versions, for upgrading data an older one made.
    public var otherVersions: [EngineVersion] = []

    /// The same service run by another version's image: what an upgrade starts on the old data.
    public func running(_ version: EngineVersion) -> ResolvedService {
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
public struct EngineVersion: Sendable, Equatable {
    public var imageTag: String
    public var imageHash: String
    public var spec: ServiceSpec
    public var actions: [String: ImageRecipe.Action]
    /// The images it is built from, in build order, itself last.
    public var images: [ResolvedImage]
}

/// One setup or update step, ready to run.
public struct ResolvedStep: Sendable, Equatable, Codable {
    /// How people see it: `sql demo/migrations/0002.sql`.
    public var title: String
    public var action: String
    /// The command to run in the service container (image-recipe references).
    public var command: Template
    /// Parameter values (sandbox-recipe references), substituted into `command`.
    public var params: [String: Template]
    /// Absolute path of the file fed to standard input.
    public var stdinFile: String?
    public var hash: String
    public var location: SourceLocation
    /// True when the step's text depends on the instance (`{instance}`, a service's host port, host or URL,
    /// or `{env.X}`): it cannot be applied once in the golden copy and must run in each instance.
    public var perInstance: Bool = false

    /// References a step may use without depending on which instance runs it.
    static func isPerInstance(_ references: [String]) -> Bool {
        references.contains { ref in
            if ref == "instance" || ref.hasPrefix("env.") { return true }
            let parts = ref.split(separator: ".", maxSplits: 1)
            return parts.count == 2 && ["port", "host", "url"].contains(String(parts[1]))
        }
    }
}
