import ArgumentParser
import Foundation
import SandboxKit

extension Sandbox {
    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build (or confirm current) every image a sandbox needs, and print each tag.",
            discussion: "Example:\n  sandbox build demo"
        )

        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions

        func run() async throws {
            try await reporting {
                let instance = try options.instance(sandbox.name)
                let progress = LiveProgress(json: false)
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
