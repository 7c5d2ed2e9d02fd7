import ArgumentParser
import Foundation
import SandboxRecipes

extension Sandbox {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the checkout's recipes (or one sandbox and the images it uses); needs no Docker.",
            discussion: "Example:\n  sandbox check && echo recipes ok"
        )

        @Argument(help: "Check only this sandbox and what it uses.")
        var sandbox: String?

        @OptionGroup var location: CheckoutOption

        func run() async throws {
            try await reporting {
                let workspace = try location.workspace()
                let check = try RecipeCheck(workspace.recipes, only: sandbox)
                if !check.diagnostics.isEmpty { throw check.errors }
                let names = check.sandboxes.map(\.name)
                say("ok: \(names.count) sandbox\(names.count == 1 ? "" : "es") (\(names.joined(separator: ", "))), "
                    + "\(check.imageCount) image recipes, \(check.stepCount) steps; no errors")
            }
        }
    }
}
