import ArgumentParser
import Foundation
import SandboxOperations

extension Sandbox {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the docker CLI, the engine, recipes, .sandbox/ permissions, disk space, base images and notifications.",
            discussion: "Example:\n  sandbox doctor || echo 'something needs fixing'"
        )

        @OptionGroup var location: CheckoutOption

        @OptionGroup var format: JSONOption

        func run() async throws {
            let findings = try await reporting(json: format.json) { await SandboxOperations.Doctor(workspace: try location.workspace()).run() }
            if format.json {
                JSONOutput.emit(DoctorJSON(findings: findings))
            } else {
                for f in findings {
                    let mark = f.level == .ok ? "✔" : f.level == .warning ? "!" : "✘"
                    say("\(mark) \(f.check): \(f.message)")
                    if let fix = f.fix { say("    fix: \(fix)") }
                }
            }
            if findings.contains(where: { $0.level == .problem }) { throw ExitCode.failure }
        }
    }
}

struct DoctorJSON: Encodable {
    var event = "doctor"
    var findings: [SandboxOperations.Doctor.Finding]
}
