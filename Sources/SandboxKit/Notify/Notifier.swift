import Foundation
#if canImport(Glibc)
import Glibc
import SandboxRecipes
import SandboxHost
#endif

/// What a command does once it changed an instance: it spools the event and starts a deliverer, then returns.
/// It never throws, never prints and never waits for the network; with no URL configured it does nothing at all.
package struct Notifier: Sendable {
    package var checkout: Checkout
    package var config: NotifyConfig
    /// The deliverer's argv: `sandbox notify-deliver --checkout PATH`.
    package var deliverer: [String]
    package var now: @Sendable () -> Date

    package init(checkout: Checkout, deliverer: [String], config: NotifyConfig = .load(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.checkout = checkout
        self.deliverer = deliverer
        self.config = config
        self.now = now
    }

    /// Sends `result` (a `--json` object, as encoded) as a `kind` event about `instance`.
    /// `commit` names the commit the event is about when it is not the checkout's own (a preview's, in its worktree).
    package func send(_ kind: NotifyEvent.Kind, result: Data, instance: String, commit: String? = nil) async {
        guard config.isEnabled, let object = try? JSONSerialization.jsonObject(with: result) as? [String: Any] else { return }
        var commit = commit
        if commit == nil { commit = await GitHead.commit(at: checkout.root) }
        let date = now()
        let event = NotifyEvent(kind: kind, instance: instance, object: object, checkout: checkout.root.path, commit: commit,
                                at: date, config: config)
        guard (try? NotifySpool(stateDirectory: checkout.stateDirectory).add(event, at: date)) != nil else { return }
        Detached.start(deliverer)
    }
}
