import ArgumentParser
import Foundation

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
                let result = try await withProgress(json: false) { try await options.core.build(try options.target(sandbox.name), reporter: $0) }
                for image in result.images { say("\(image.tag)  \(image.built ? "built" : "current")  \(image.hash.prefix(12))") }
            }
        }
    }
}
