import ArgumentParser
import Foundation
#if Server
import SandboxWebhook
#endif
import SandboxRecipes
import SandboxNotify

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
            #if Server
            await NotifyDeliverer.run(stateDirectory: checkout.stateDirectory, transport: WebhookClient())
            #else
            // The events stay in the spool: the next command of the whole build that sends an event delivers them all.
            _ = checkout
            throw ExitCode(3)
            #endif
        }
    }
}
