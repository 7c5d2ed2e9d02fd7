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
}
