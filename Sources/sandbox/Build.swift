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
                let built = try await withProgress(json: false) { try await instance.build(reporter: $0) }
                for image in instance.sandbox.images {
                    say("\(image.tag)  \(built.contains(image.tag) ? "built" : "current")  \(image.hash.prefix(12))")
                }
            }
        }
    }
}
