import Foundation
import SandboxBase

extension SandboxError.Code {
    /// The HTTP status `sandbox serve` answers this code with: the one table (docs/errors.md lists it beside each code,
    /// ErrorDocsTests holds the two equal). No `default`: a new code does not compile until it has its status.
    package var httpStatus: Int {
        switch self {
        // The request itself is wrong.
        case .badRequest, .invalidName, .ambiguousSandbox: 400
        case .unauthorized: 401
        case .crossOrigin: 403
        case .notFound, .unknownSandbox, .unknownService, .noSuchSnapshot, .noRecipes, .noSuchLease: 404
        // The request is fine, but the instance's state or another command stands in the way.
        case .notRunning, .instanceBusy, .wrongSandbox, .dataDirMismatch, .dataDirDamaged, .stateDamaged, .portTaken,
             .otherEngine, .noLeases: 409
        // The recipes, or a step they name, cannot be carried out as written.
        case .invalidRecipes, .buildFailed, .initFailed, .stepFailed, .notReady, .upgradeFailed: 422
        // The host: disk, permissions, an unexpected I/O failure.
        case .io, .dataDirNotWritable, .storeFailed: 500
        // Something the server depends on failed: the engine, a base image's source.
        case .dockerFailed, .baseImageUnavailable, .leaseFailed: 502
        case .shuttingDown, .serverBusy, .engineUnreachable, .dockerMissing, .storeNotMounted, .notBuilt: 503
        // Another limit: the service's copies lent at once.
        case .tooManyLeases: 429
        case .diskFull: 507
        }
    }
}
