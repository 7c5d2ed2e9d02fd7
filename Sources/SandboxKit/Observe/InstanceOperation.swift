import Foundation

/// What a command asks of an instance; each is planned, then applied under the instance lock.
package enum InstanceOperation: Sendable, Equatable {
    /// Install or update: converge to the recipes, keeping data.
    case up
    /// Back to the freshly set-up data (a copy of the golden data dirs).
    case reset
    /// The data dirs replaced by the snapshot's.
    case restore(snapshot: String)
    /// Containers stopped and removed; data stays.
    case down
    /// Containers removed and, with `deleteData`, the instance's data too.
    case destroy(deleteData: Bool)
    /// Every data dir copied into a new snapshot.
    case saveSnapshot(String)
    /// A snapshot deleted.
    case deleteSnapshot(String)
    /// Services stopped cleanly and started again (all of them when none is named).
    case restart(services: [String])

    /// Whether planning it needs the recipes (`down`, `destroy` and `snapshot delete` work from what the instance recorded).
    package var needsRecipes: Bool {
        switch self {
        case .up, .reset, .restore, .saveSnapshot, .restart: return true
        case .down, .destroy, .deleteSnapshot: return false
        }
    }
}
