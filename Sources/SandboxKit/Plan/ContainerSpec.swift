import Foundation

/// A service's container exactly as `docker run` will create it, decided by the planner.
public struct ContainerSpec: Sendable, Equatable {
    public var service: String
    /// The host port it publishes on.
    public var port: Int
    /// True when the recipe pins the port (a taken pinned port is an error, never a move).
    public var pinned: Bool
    public var run: DockerCommand.RunSpec
    /// The hash of `config`, stored as a label so the next plan can compare.
    public var configHash: String
}

/// The settings a service's container is created with; its hash, stored as a label, tells whether
/// an existing container still matches the recipe.
public struct ContainerConfig: Sendable, Equatable, Encodable {
    public var imageHash: String
    public var publish: String
    public var hostPort: Int
    public var containerPort: Int
    public var dataDir: String
    public var data: String
    public var uid: UInt32
    public var gid: UInt32
    public var start: String
    public var stopSignal: String
    public var stopTimeout: Int
    /// The readiness check the container runs itself (see `EntryScript`).
    public var ready: String
    /// Containers run with `--init`.
    public var initProcess = true
    /// And come back by themselves after the engine restarts.
    public var restart = ContainerConfig.restartPolicy

    public static let restartPolicy = "unless-stopped"

    public init(service: ResolvedService, hostPort: Int, dataDir: String, uid: UInt32, gid: UInt32) {
        imageHash = service.imageHash
        publish = service.publish
        self.hostPort = hostPort
        containerPort = service.spec.port
        self.dataDir = dataDir
        data = service.spec.data
        self.uid = uid
        self.gid = gid
        start = service.spec.start.raw
        stopSignal = service.spec.stopSignal
        stopTimeout = service.spec.stopTimeout
        ready = service.spec.ready.raw
    }

    public var hash: String { ContentHash.of(self) }
}

extension DockerCommand.RunSpec {
    /// A service's container, as both instances and the golden copy run it: as the caller's uid and gid, the data dir
    /// mounted, the readiness check handed to the entrypoint, a tiny init as PID 1, the recipe's stop settings.
    /// `start` and `ready` are rendered without secrets: they are visible in `docker inspect`.
    static func service(_ service: ResolvedService, name: String, labels: [String: String], dataDir: URL,
                        uid: UInt32, gid: UInt32) throws(SandboxError) -> Self {
        var spec = Self(name: name, image: service.imageTag, labels: labels)
        spec.environment = ["SANDBOX_UID": String(uid), "SANDBOX_GID": String(gid),
                            "SANDBOX_READY": try Rendering.command(service.spec.ready, spec: service.spec, stamp: nil)]
        spec.initProcess = true
        spec.mounts = [(dataDir.path, service.spec.data)]
        spec.stopSignal = service.spec.stopSignal
        spec.stopTimeout = service.spec.stopTimeout
        spec.command = ["exec " + (try Rendering.command(service.spec.start, spec: service.spec, stamp: nil))]
        return spec
    }
}
