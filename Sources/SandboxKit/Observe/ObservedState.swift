import Foundation

/// A container of this instance, as one `docker ps` call saw it.
public struct ObservedContainer: Sendable, Equatable, Codable {
    /// The host address and port from docker ps's `127.0.0.1:20001->5432/tcp`.
    public static func published(_ ports: String) -> (address: String, port: Int)? {
        guard let arrow = ports.range(of: "->") else { return nil }
        let left = ports[..<arrow.lowerBound]
        guard let colon = left.lastIndex(of: ":"), let port = Int(left[left.index(after: colon)...]) else { return nil }
        return (String(left[..<colon]), port)
    }

    public var id: String
    public var name: String
    public var service: String
    public var running: Bool
    public var state: String
    public var configHash: String?
    public var imageHash: String?
    public var ports: String

    public init(id: String, name: String, service: String, running: Bool, state: String,
                configHash: String?, imageHash: String?, ports: String = "") {
        self.id = id
        self.name = name
        self.service = service
        self.running = running
        self.state = state
        self.configHash = configHash
        self.imageHash = imageHash
        self.ports = ports
    }
}

/// The host port a service will publish on, decided before planning.
public struct PortChoice: Sendable, Equatable {
    public var port: Int
    /// Why it differs from the one the instance had, if it does.
    public var change: String?

    public init(port: Int, change: String? = nil) {
        self.port = port
        self.change = change
    }
}

/// Everything planning needs to know about the world, gathered by `Observer`.
public struct ObservedState: Sendable, Equatable {
    /// Present images by tag, with their content-hash label (nil when unlabelled). A missing tag is absent.
    public var images: [String: String?]
    /// This instance's containers by service name, including ones whose service left the recipe.
    public var containers: [String: ObservedContainer]
    public var dataDirs: [String: DataDirState]
    public var ports: [String: PortChoice]
    /// Services whose golden data dir (for the current fresh hash) is ready to copy.
    public var golden: Set<String>
    /// Update steps (by hash) already applied in each service's golden copy, so copies of it need not run them.
    public var goldenUpdates: [String: Set<String>] = [:]
    /// A service's pinned port that something else holds: planning refuses.
    public var portConflicts: [String: Int]
    /// With `--registry`: which missing images and golden copies the registry has (nil without one).
    public var registry: Registry.Contents?
    /// The previous command on the instance was killed: docker operations it started may still be finishing,
    /// so its containers are recreated rather than trusted.
    public var interrupted = false
    /// Services whose data dir still has a password other copies share (not this instance's own).
    public var sharedCredentials: Set<String> = []
    /// The snapshot a restore names, when the instance has it, and the names it has.
    public var snapshot: ObservedSnapshot?
    public var snapshotNames: [String] = []
    /// Disk taken by the data dirs of services whose data an other engine version made (an upgrade's estimate).
    public var dataSizes: [String: Int64] = [:]

    public init(images: [String: String?] = [:], containers: [String: ObservedContainer] = [:], dataDirs: [String: DataDirState] = [:],
                ports: [String: PortChoice] = [:], golden: Set<String> = [], portConflicts: [String: Int] = [:]) {
        self.images = images
        self.containers = containers
        self.dataDirs = dataDirs
        self.ports = ports
        self.golden = golden
        self.portConflicts = portConflicts
    }
}

/// A saved snapshot as a restore sees it: what made each service's data.
public struct ObservedSnapshot: Sendable, Equatable {
    public var name: String
    public var sandbox: String
    public var stamps: [String: DataStamp]
    /// Services whose saved data has a password other than the instance's own.
    public var sharedCredentials: Set<String>

    public init(name: String, sandbox: String, stamps: [String: DataStamp], sharedCredentials: Set<String> = []) {
        self.name = name
        self.sandbox = sandbox
        self.stamps = stamps
        self.sharedCredentials = sharedCredentials
    }
}
