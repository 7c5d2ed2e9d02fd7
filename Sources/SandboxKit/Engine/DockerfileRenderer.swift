import Foundation
import SandboxRecipes

/// Turns a resolved image recipe into a Dockerfile for the classic builder (no BuildKit syntax),
/// ordered so that Docker's layer cache rebuilds from the first changed step on.
package enum DockerfileRenderer {
    package static func render(_ image: ResolvedImage) -> String {
        var lines: [String] = []
        switch image.base {
        case let .recipe(tag)?, let .external(tag)?: lines.append("FROM \(tag)")
        case nil: lines.append(image.recipe.dockerfile == nil ? "FROM scratch" : "FROM \(projectTag(image))")
        }
        for (index, step) in image.recipe.build.enumerated() {
            switch step {
            case let .apt(packages):
                lines.append("RUN " + json(["/bin/sh", "-c",
                    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
                        + "\(packages.map(shellQuote).joined(separator: " ")) >/dev/null && rm -rf /var/lib/apt/lists/*"]))
            case let .run(script):
                lines.append("RUN " + json(["/bin/sh", "-c", "set -e\n" + script]))
            case let .copy(source, destination, mode):
                // From the checkout's build context (`context/`), or a file next to the recipe (`files/N`).
                let from = image.context == nil ? contextName(index) : "context/" + (source == "." ? "" : source)
                lines.append("COPY " + json([from, destination]))
                if let mode { lines.append("RUN " + json(["chmod", mode, destination])) }
            case let .env(values):
                for (key, value) in values.sorted(by: { $0.key < $1.key }) { lines.append("ENV \(key)=\(json(value))") }
            }
        }
        if let service = image.recipe.service {
            lines.append("COPY sandbox-entry \(EntryScript.path)")
            var env = ["SANDBOX_RUN_AS": service.runAs, "SANDBOX_DATA": service.stateFolder]
            env.merge(service.env) { $1 }
            for (key, value) in env.sorted(by: { $0.key < $1.key }) { lines.append("ENV \(key)=\(json(value))") }
            lines.append("EXPOSE \(service.port)")
            lines.append("STOPSIGNAL \(service.stopSignal)")
            lines.append("ENTRYPOINT " + json([EntryScript.path]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Where a `copy` step's file sits in the build context.
    package static func contextName(_ index: Int) -> String { "files/\(index)" }

    /// The image the project's own Dockerfile makes, before sandbox adds its entry script: `acme/app:demo-project`.
    package static func projectTag(_ image: ResolvedImage) -> String { image.tag + "-project" }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "\"\""
    }
}
