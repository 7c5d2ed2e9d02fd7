import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build (or confirm current) every image a sandbox needs, and print each tag.",
            discussion: "Example:\n  sandbox build demo"
        )

        @Argument(help: "The sandbox (may be left out when Recipes/ holds one).")
        var sandbox: String?

        @OptionGroup var options: InstanceOptions

        func run() async throws {
            try await reporting {
                let instance = try options.instance(sandbox)
                let progress = Progress(json: false)
                defer { progress.finish() }
                let built = try await instance.build(reporter: progress.reporter)
                progress.finish()
                for image in instance.sandbox.images {
                    say("\(image.tag)  \(built.contains(image.tag) ? "built" : "current")  \(image.hash.prefix(12))")
                }
            }
        }
    }
}
