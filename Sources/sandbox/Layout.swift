import ArgumentParser
import Foundation

extension Sandbox {
    /// For harnesses (Scripts/soak): the instance's files and labels, so a harness never writes them down twice.
    struct Layout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print where the instance keeps what, and its containers' labels (JSON).",
                                                        discussion: "Example:\n  sandbox layout --instance shard-3", shouldDisplay: false)
        @OptionGroup var sandbox: SandboxArgument
        @OptionGroup var options: InstanceOptions

        func run() async throws {
            try await reporting(json: true) { JSONOutput.emit(try options.core.layout(try options.target(sandbox.name))) }
        }
    }
}
