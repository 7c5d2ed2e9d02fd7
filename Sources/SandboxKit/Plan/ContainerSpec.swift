import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// A service's container exactly as `docker run` will create it, decided by the planner.
package struct ContainerSpec: Sendable, Equatable {
    package var service: String
    /// The host port it publishes on.
    package var port: Int
    /// True when the recipe pins the port (a taken pinned port is an error, never a move).
    package var pinned: Bool
    package var run: DockerCommand.RunSpec
    /// The hash of `config`, stored as a label so the next plan can compare.
    package var configHash: String
}

/// The settings a service's container is created with; its hash, stored as a label, tells whether
/// an existing container still matches the recipe.
package struct ContainerConfig: Sendable, Equatable, Encodable {
    package var imageHash: String
    package var publish: String
    package var hostPort: Int
    package var containerPort: Int
    /// Host folder to container folder, for every mount (the data dir, the run folder, a live source folder).
    package var mounts: [String]
    package var uid: UInt32
    package var gid: UInt32
    package var start: String
    package var stopSignal: String
    package var stopTimeout: Int
    /// The readiness check (see `EntryScript`, or an HTTP path the host asks).
    package var ready: String
    /// The instance's network and the name the service has on it.
    package var network: String
    /// The service's own environment, as templates (their values are written to the run folder, never here).
    package var env: [String]
    /// Containers run with `--init`.
    package var initProcess = true
    /// And come back by themselves after the engine restarts.
    package var restart = ContainerConfig.restartPolicy

    package static let restartPolicy = "unless-stopped"

    package init(service: ResolvedService, hostPort: Int, mounts: [DockerCommand.Mount], network: String, uid: UInt32, gid: UInt32) {
        imageHash = service.imageHash
        publish = service.publish
        self.hostPort = hostPort
        containerPort = service.spec.port
        self.mounts = mounts.map(\.text)
        self.uid = uid
        self.gid = gid
        start = service.spec.start.raw
        stopSignal = service.spec.stopSignal
        stopTimeout = service.spec.stopTimeout
        ready = service.spec.ready.raw
        self.network = network
        env = service.env.map { "\($0.name)=\($0.value.raw)" }
    }

    package var hash: String { ContentHash.of(self) }
}

extension DockerCommand.RunSpec {
    /// A service's container, as both instances and the golden copy run it: as the caller's uid and gid, with the given
    /// mounts, the readiness check handed to the entrypoint, a tiny init as PID 1, the recipe's stop settings.
    /// `start` and `ready` are rendered without secrets: they are visible in `docker inspect`.
    package static func service(_ service: ResolvedService, name: String, labels: [String: String], mounts: [DockerCommand.Mount],
                                uid: UInt32, gid: UInt32) throws(SandboxError) -> Self {
        var spec = Self(name: name, image: service.imageTag, labels: labels)
        spec.environment = ["SANDBOX_UID": String(uid), "SANDBOX_GID": String(gid)]
        if let ready = service.spec.ready.command {
            spec.environment["SANDBOX_READY"] = try Rendering.command(ready, spec: service.spec, stamp: nil)
        }
        spec.initProcess = true
        spec.mounts = mounts
        spec.stopSignal = service.spec.stopSignal
        spec.stopTimeout = service.spec.stopTimeout
        spec.command = ["exec " + (try Rendering.command(service.spec.start, spec: service.spec, stamp: nil))]
        return spec
    }
}
