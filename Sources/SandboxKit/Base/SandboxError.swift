import Foundation

/// The one error type people see: what went wrong, and the next thing to do.
/// Every code is listed with its cause and fix in docs/errors.md.
package struct SandboxError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable, CaseIterable, Codable {
        case noRecipes = "no-recipes"
        case invalidRecipes = "invalid-recipes"
        case unknownSandbox = "unknown-sandbox"
        case ambiguousSandbox = "ambiguous-sandbox"
        case unknownService = "unknown-service"
        case dockerMissing = "docker-missing"
        case engineUnreachable = "engine-unreachable"
        case dockerFailed = "docker-failed"
        case buildFailed = "build-failed"
        case baseImageUnavailable = "base-image-unavailable"
        case initFailed = "init-failed"
        case notReady = "not-ready"
        case stepFailed = "step-failed"
        case portTaken = "port-taken"
        case dataDirNotWritable = "data-dir-not-writable"
        case dataDirMismatch = "data-dir-mismatch"
        case dataDirDamaged = "data-dir-damaged"
        case stateDamaged = "state-damaged"
        case diskFull = "disk-full"
        case wrongSandbox = "wrong-sandbox"
        case instanceBusy = "instance-busy"
        case notRunning = "not-running"
        case noSuchSnapshot = "no-such-snapshot"
        case invalidName = "invalid-name"
        case io = "io"
        case storeNotMounted = "store-not-mounted"
        case storeFailed = "store-failed"
        case otherEngine = "other-engine"
        case upgradeFailed = "upgrade-failed"
        case noLeases = "no-leases"
        case tooManyLeases = "too-many-leases"
        case noSuchLease = "no-such-lease"
        case leaseFailed = "lease-failed"
        case notBuilt = "not-built"
        // Added by `sandbox serve`'s HTTP API.
        case badRequest = "bad-request"
        case unauthorized = "unauthorized"
        case crossOrigin = "cross-origin"
        case notFound = "not-found"
        case shuttingDown = "shutting-down"
        case serverBusy = "server-busy"
    }

    package var code: Code
    package var message: String
    package var fix: String?
    /// Last lines of the failing command's output, shown under the message.
    package var detail: String?
    /// The world changed since the plan was made (a port taken meanwhile, a session that ended before the request
    /// reached it): planning again, or sending again through a new session, resolves it.
    package var replan = false

    package init(_ code: Code, _ message: String, fix: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.fix = fix
        self.detail = detail
    }

    package var description: String {
        var out = "error: \(message)"
        if let detail, !detail.isEmpty {
            out += "\n" + detail.split(separator: "\n", omittingEmptySubsequences: false).map { "  | \($0)" }.joined(separator: "\n")
        }
        if let fix { out += "\nfix: \(fix)" }
        return out
    }
}
