import Foundation

// The objects the core's operations return. The CLI prints them as `--json` lines and `sandbox serve` sends them as
// HTTP bodies, both through `JSONLine`, so the two front doors cannot drift (docs/json.md describes every field).

/// What `up`, `reset` and `snapshot restore` end with: each service's state and URL, and where the variables are.
public struct UpResult: Codable, Sendable, Equatable {
    public var event = "result"
    public var instance: String
    public var sandbox: String
    public var changed: Bool
    /// docker processes `up` started (the no-op path needs at most two).
    public var dockerCalls: Int?
    public var services: [ServiceStatus]
    public var envFile: String
}

/// `status`: one instance's services.
public struct InstanceStatus: Codable, Sendable, Equatable {
    public var event = "status"
    public var instance: String
    public var sandbox: String
    public var services: [ServiceStatus]
    /// The checkout's commit at the instance's last successful `up` (absent outside git).
    public var commit: String?
}

/// `ls`: every instance of a checkout.
public struct InstanceList: Codable, Sendable, Equatable {
    public var event = "list"
    public var instances: [InstanceStatus]
}

/// `down` and `destroy`: the services whose containers were removed.
public struct RemovalResult: Codable, Sendable, Equatable {
    public var event = "result"
    public var instance: String
    public var removed: [String]
    public var deletedData: Bool?
}

/// `snapshot ls`.
public struct SnapshotList: Codable, Sendable, Equatable {
    public var event = "snapshots"
    public var snapshots: [SnapshotEntry]
}

/// A snapshot as listed: its record, and the disk it takes (`exclusiveBytes`: what deleting it frees).
public struct SnapshotEntry: Codable, Sendable, Equatable {
    public var name: String
    public var sandbox: String
    public var services: [String: SnapshotInfo.Service]
    public var created: Date
    public var bytes: Int64
    public var exclusiveBytes: Int64

    public init(info: SnapshotInfo, usage: DiskUsage) {
        name = info.name
        sandbox = info.sandbox
        services = info.services
        created = info.created
        bytes = usage.bytes
        exclusiveBytes = usage.exclusiveBytes
    }
}

/// `snapshot save`.
public struct SnapshotSaved: Codable, Sendable, Equatable {
    public var event = "result"
    public var instance: String
    public var sandbox: String
    public var snapshot: String
    public var services: [String]
}

/// `snapshot delete`.
public struct SnapshotDeleted: Codable, Sendable, Equatable {
    public var event = "result"
    public var instance: String
    public var snapshot: String
    public var freedBytes: Int64
}

/// `build`: each image the sandbox needs, and whether this call built it.
public struct BuildResult: Codable, Sendable, Equatable {
    public struct Image: Codable, Sendable, Equatable { public var tag: String; public var built: Bool; public var hash: String }
    public var event = "result"
    public var sandbox: String
    public var images: [Image]
}

/// The `error` event of a failure: what `--json` prints last and what an HTTP error body holds.
public struct ErrorEvent: Codable, Sendable, Equatable, Error {
    public struct Diagnostic: Codable, Sendable, Equatable {
        public var path: String
        public var line: Int
        public var column: Int
        public var message: String
    }

    public var event = "error"
    public var code: String
    public var message: String
    public var fix: String
    /// Recipe mistakes, one per problem (only with `invalid-recipes`).
    public var diagnostics: [Diagnostic]?
    /// Which instance of which sandbox, in a notification about a failure.
    public var instance: String?
    public var sandbox: String?

    public init(code: SandboxError.Code, message: String, fix: String, diagnostics: [Diagnostic]? = nil) {
        self.code = code.rawValue
        self.message = message
        self.fix = fix
        self.diagnostics = diagnostics
    }

    /// The event of a failure people can act on; nil for any other error (a bug, which the front door reports as such).
    public init?(_ error: any Error) {
        switch error {
        case let error as ErrorEvent:
            self = error
        case let error as SandboxError:
            self.init(code: error.code, message: error.message, fix: error.fix ?? "")
        case let error as RecipeErrors:
            let count = error.diagnostics.count
            self.init(code: .invalidRecipes, message: "\(count) error\(count == 1 ? "" : "s") in recipes", fix: "fix them and run `sandbox check`",
                      diagnostics: error.diagnostics.map {
                          Diagnostic(path: $0.location.path, line: $0.location.line, column: $0.location.column, message: $0.message)
                      })
        default:
            return nil
        }
    }

    /// The code as the core knows it (`io` for a code this version does not have).
    public var typedCode: SandboxError.Code { SandboxError.Code(rawValue: code) ?? .io }
}
