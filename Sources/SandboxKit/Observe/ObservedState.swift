import Foundation
import SandboxBase
import SandboxEngine
import SandboxHost

/// A container of this instance, as one `docker ps` call saw it.
package struct ObservedContainer: Sendable, Equatable, Codable {
    /// The host address and port from docker ps's `127.0.0.1:20001->5432/tcp`.
    package static func published(_ ports: String) -> (address: String, port: Int)? {
        guard let arrow = ports.range(of: "->") else { return nil }
        let left = ports[..<arrow.lowerBound]
        guard let colon = left.lastIndex(of: ":"), let port = Int(left[left.index(after: colon)...]) else { return nil }
        return (String(left[..<colon]), port)
    }

    package var id: String
    package var name: String
    package var service: String
    package var running: Bool
    package var state: String
    package var configHash: String?
    package var imageHash: String?
    package var ports: String

    package init(id: String, name: String, service: String, running: Bool, state: String,
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
package struct PortChoice: Sendable, Equatable {
    package var port: Int
    /// Why it differs from the one the instance had, if it does.
    package var change: String?

    package init(port: Int, change: String? = nil) {
        self.port = port
        self.change = change
    }
}

/// Everything planning needs to know about the world, gathered by `Observer`.
package struct ObservedState: Sendable, Equatable {
    /// Present images by tag, with their content-hash label (nil when unlabelled). A missing tag is absent.
    package var images: [String: String?]
    /// This instance's containers by service name, including ones whose service left the recipe.
    package var containers: [String: ObservedContainer]
    /// The instance's networks, by their labels: asked for `down` and `destroy` only, which remove them.
    package var networks: [String] = []
    package var dataDirs: [String: DataDirState]
    package var ports: [String: PortChoice]
    /// Services whose golden data dir (for the current fresh hash) is ready to copy.
    package var golden: Set<String>
    /// Update steps (by hash) already applied in each service's golden copy, so copies of it need not run them.
    package var goldenUpdates: [String: Set<String>] = [:]
    /// A service's pinned port that something else holds: planning refuses.
    package var portConflicts: [String: Int]
    /// With `--registry`: which missing images and golden copies the registry has (nil without one).
    package var registry: Registry.Contents?
    /// The previous command on the instance was killed: docker operations it started may still be finishing,
    /// so its containers are recreated rather than trusted.
    package var interrupted = false
    /// Services whose data dir still has a password other copies share (not this instance's own).
    package var sharedCredentials: Set<String> = []
    /// The snapshot a restore names, when the instance has it, and the names it has.
    package var snapshot: ObservedSnapshot?
    package var snapshotNames: [String] = []
    /// Disk taken by the data dirs of services whose data an other engine version made (an upgrade's estimate).
    package var dataSizes: [String: Int64] = [:]
    /// What a killed command left, which the plan finishes or undoes first.
    package var leftovers = Leftovers()
    /// The instance's record as saved (nil: a new instance, or one whose deletion is being finished).
    package var saved: InstanceState?
    /// The checkout's commit now (nil outside git).
    package var commit: String?
    /// For a new instance: the engine it is made on, as the environment names it, and that engine's own ID.
    package var engine: String?
    package var engineID: String?
    /// The env file holds what the instance's data and ports give now.
    package var envCurrent = true
    /// State files of the instance that cannot be read (its record, its secrets): the plan refuses, unless told to
    /// repair them, naming each.
    package var damaged: [Damage] = []
    /// Variables the recipes name (`{env.X}`) whose value holds a NUL character, which no command can carry.
    package var unusableVariables: [String] = []
    /// The live-hash labels of present images that have one (`ResolvedImage.liveHash`), by tag.
    package var imageLiveHashes: [String: String] = [:]
    /// Services whose data the plan replaces before their containers are made (an upgrade's switch): their old
    /// containers are removed, never kept to come back.
    package var dataReplaced: Set<String> = []
    /// Services whose run folder holds the environment file their `env` gives now.
    package var serviceEnvCurrent: Set<String> = []
    /// For images built from the checkout: the files an image of that content hash was built from (path to hash), for the
    /// present images and the containers' images, to name what changed.
    package var imageManifests: [String: [String: String]] = [:]

    package init(images: [String: String?] = [:], containers: [String: ObservedContainer] = [:], dataDirs: [String: DataDirState] = [:],
                ports: [String: PortChoice] = [:], golden: Set<String> = [], portConflicts: [String: Int] = [:]) {
        self.images = images
        self.containers = containers
        self.dataDirs = dataDirs
        self.ports = ports
        self.golden = golden
        self.portConflicts = portConflicts
    }
}

/// A state file that cannot be read, as the error that names it.
package struct Damage: Sendable, Equatable {
    /// Relative to the instance's folder: `instance.json`, `secrets.json`.
    package var file: String
    package var message: String
    package var fix: String

    package init(file: String, _ error: SandboxError) {
        self.file = file
        message = error.message
        fix = error.fix ?? ""
    }
}

/// What a killed command left in an instance's folder and on the engine, as found; the plan deals with each.
package struct Leftovers: Sendable, Equatable {
    /// A `destroy --delete-data` was interrupted after its journal was written.
    package var deletion = false
    /// A data switch was interrupted after its journal was written: these services' staged data goes in.
    package var switched: [String]?
    /// Paths, relative to the instance's folder, of what nothing will use: uncommitted staging, replaced data,
    /// an upgrade's work folders, temporary files (stamps in data dirs included), a snapshot's staging.
    package var stale: [String] = []
    /// Containers an interrupted command left: an upgrade's private servers (still running, writing into folders the
    /// recovery deletes) and containers set aside while their replacement started.
    package var upgradeServers: [ObservedContainer] = []

    package init(deletion: Bool = false, switched: [String]? = nil, stale: [String] = [], upgradeServers: [ObservedContainer] = []) {
        self.deletion = deletion
        self.switched = switched
        self.stale = stale
        self.upgradeServers = upgradeServers
    }

    package var isEmpty: Bool { !deletion && switched == nil && stale.isEmpty && upgradeServers.isEmpty }
}

/// A saved snapshot as a restore sees it: what made each service's data.
package struct ObservedSnapshot: Sendable, Equatable {
    package var name: String
    package var sandbox: String
    package var stamps: [String: DataStamp]
    /// Services whose saved data has a password other than the instance's own.
    package var sharedCredentials: Set<String>

    package init(name: String, sandbox: String, stamps: [String: DataStamp], sharedCredentials: Set<String> = []) {
        self.name = name
        self.sandbox = sandbox
        self.stamps = stamps
        self.sharedCredentials = sharedCredentials
    }
}
