import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// Runs one setup or update step inside a running service container.
struct StepRunner: Sendable {
    var docker: Docker

    func run(_ step: ResolvedStep, script: String, container: String, service: ResolvedService, recipe: String,
             line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let command = DockerCommand.exec(container, user: service.spec.runAs, script: script, stdinFile: step.stdinFile)
        let out = try await docker.run(command, check: false)
        for text in (out.stdout + out.stderr).split(separator: "\n") { line(String(text)) }
        if out.status != 0 {
            if out.failure == .engineDown || out.failure == .outOfSpace { throw docker.failure(command, out) }
            throw SandboxError(.stepFailed, "step '\(step.title)' of service \(service.name) failed (exit status \(out.status)) "
                                   + "at \(recipe):\(step.location.line)",
                               fix: "fix the step or the file it reads, then run `sandbox up` again; it will be retried",
                               detail: Docker.tail(out.stderr.isEmpty ? out.stdout : out.stderr, lines: 15))
        }
    }
}

/// Appends lines to a log file under `.sandbox/<instance>/logs/`.
final class LogFile: Sendable {
    let url: URL
    init(_ url: URL) {
        self.url = url
        try? FileSystem.ensureDirectory(url.deletingLastPathComponent())
    }

    func append(_ line: String) {
        let data = Data((line + "\n").utf8)
        if let handle = FileHandle(forWritingAtPath: url.path) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        } else {
            FileManager.default.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600])
        }
    }
}
