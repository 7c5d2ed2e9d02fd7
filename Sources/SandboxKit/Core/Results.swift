import Foundation
import SandboxBase
import SandboxRecipes
import SandboxHost
import SandboxOperations

// The objects the core's operations return. The CLI prints them as `--json` lines and `sandbox serve` sends them as
// HTTP bodies, both through `JSONLine`, so the two front doors cannot drift (docs/json.md describes every field).

/// What `up`, `reset` and `snapshot restore` end with: each service's state and URL, and where the variables are.
package struct UpResult: Codable, Sendable, Equatable {
    package var event = "result"
    package var instance: String
    package var sandbox: String
    package var changed: Bool
    /// docker processes `up` started (the no-op path needs at most two).
    package var dockerCalls: Int?
    package var services: [ServiceStatus]
    package var envFile: String
}

/// `status`: one instance's services.
package struct InstanceStatus: Codable, Sendable, Equatable {
    package var event = "status"
    package var instance: String
    package var sandbox: String
    package var services: [ServiceStatus]
    /// The checkout's commit at the instance's last successful `up` (absent outside git).
    package var commit: String?
    /// In `ls`: how many snapshots it keeps (an instance destroyed with its data but not its snapshots is listed for them).
    package var snapshots: Int?
    /// In `ls`: why its record cannot be read, with the fix.
    package var problem: String?
}

/// `ls`: every instance of a checkout.
package struct InstanceList: Codable, Sendable, Equatable {
    package var event = "list"
    package var instances: [InstanceStatus]
}

/// `down` and `destroy`: the services whose containers were removed.
package struct RemovalResult: Codable, Sendable, Equatable {
    package var event = "result"
    package var instance: String
    package var removed: [String]
    package var deletedData: Bool?
}

/// `gc`: each golden copy and image of a recipe version no longer used, with its size; `removed` once it is gone.
package struct GCResult: Codable, Sendable, Equatable {
    package var event = "result"
    package var dryRun: Bool
    package var items: [GarbageCollector.Item]
    /// What the removed items took (an image's size counts layers it may share with others).
    package var freedBytes: Int64
}

/// `snapshot ls`.
package struct SnapshotList: Codable, Sendable, Equatable {
    package var event = "snapshots"
    package var snapshots: [SnapshotEntry]
}

/// A snapshot as listed: its record, and the disk it takes (`exclusiveBytes`: what deleting it frees).
package struct SnapshotEntry: Codable, Sendable, Equatable {
    package var name: String
    package var sandbox: String
    package var services: [String: SnapshotInfo.Service]
    package var created: Date
    package var bytes: Int64
    package var exclusiveBytes: Int64

    package init(info: SnapshotInfo, usage: DiskUsage) {
        name = info.name
        sandbox = info.sandbox
        services = info.services
        created = info.created
        bytes = usage.bytes
        exclusiveBytes = usage.exclusiveBytes
    }
}

/// `snapshot save`.
package struct SnapshotSaved: Codable, Sendable, Equatable {
    package var event = "result"
    package var instance: String
    package var sandbox: String
    package var snapshot: String
    package var services: [String]
}

/// `snapshot delete`.
package struct SnapshotDeleted: Codable, Sendable, Equatable {
    package var event = "result"
    package var instance: String
    package var snapshot: String
    package var freedBytes: Int64
}

/// `build`: each image the sandbox needs, and whether this call built it.
package struct BuildResult: Codable, Sendable, Equatable {
    package struct Image: Codable, Sendable, Equatable { package var tag: String; package var built: Bool; package var hash: String }
    package var event = "result"
    package var sandbox: String
    package var images: [Image]
}

/// The `error` event of a failure: what `--json` prints last and what an HTTP error body holds.
package struct ErrorEvent: Codable, Sendable, Equatable, Error {
    package struct Diagnostic: Codable, Sendable, Equatable {
        package var path: String
        package var line: Int
        package var column: Int
        package var message: String
    }

    package var event = "error"
    package var code: String
    package var message: String
    package var fix: String
    /// Recipe mistakes, one per problem (only with `invalid-recipes`).
    package var diagnostics: [Diagnostic]?
    /// Which instance of which sandbox, in a notification about a failure.
    package var instance: String?
    package var sandbox: String?

    package init(code: SandboxError.Code, message: String, fix: String, diagnostics: [Diagnostic]? = nil) {
        self.code = code.rawValue
        self.message = message
        self.fix = fix
        self.diagnostics = diagnostics
    }

    /// The event of a failure people can act on; nil for any other error (a bug, which the front door reports as such).
    package init?(_ error: any Error) {
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
    package var typedCode: SandboxError.Code { SandboxError.Code(rawValue: code) ?? .io }
}
