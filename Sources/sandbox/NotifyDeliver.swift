import ArgumentParser
import Foundation
import SandboxKit
import SandboxWebhook

extension Sandbox {
    /// Started in the background by commands that changed an instance; people never run it.
    struct NotifyDeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notify-deliver",
            abstract: "Post the checkout's spooled events to their URLs (started by commands; see docs/notifications.md).",
            discussion: "Example:\n  sandbox notify-deliver --checkout ~/src/app",
            shouldDisplay: false
        )

        @OptionGroup var location: CheckoutOption

        func run() async throws {
            // The checkout only: its recipes may be broken, and events about it must still go out.
            let checkout = try Checkout.find(from: URL(fileURLWithPath: location.checkout ?? FileManager.default.currentDirectoryPath))
            await NotifyDeliverer.run(stateDirectory: checkout.stateDirectory, transport: WebhookClient())
        }
    }
}

/// The events a command sends once it changed an instance (docs/notifications.md). Nothing it does can change
/// the command's output or exit status: it prints nothing, throws nothing, and hands delivery to a background process.
struct Notifications {
    let notifier: Notifier?

    init(_ checkout: Checkout) {
        let config = NotifyConfig.load()
        notifier = config.isEnabled
            ? Notifier(checkout: checkout, deliverer: [Sandbox.Serve.executablePath(), "notify-deliver", "--checkout", checkout.root.path], config: config)
            : nil
    }

    /// A command's result object as the event `kind`.
    func send<T: Encodable>(_ kind: NotifyEvent.Kind, _ result: T, instance: String) async {
        guard let notifier, let data = JSONOutput.data(result) else { return }
        await notifier.send(kind, result: data, instance: instance)
    }

    /// A failure as the event `kind`: its `error` object (code, message, fix), and which instance of which sandbox.
    func failed(_ kind: NotifyEvent.Kind, _ error: any Error, instance: String, sandbox: String?) async {
        guard let notifier, var object = errorObject(error) else { return }
        object["instance"] = instance
        object["sandbox"] = sandbox
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
        await notifier.send(kind, result: data, instance: instance)
    }
}
