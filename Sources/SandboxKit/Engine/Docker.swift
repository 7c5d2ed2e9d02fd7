import Foundation
import Subprocess
import Synchronization

/// The one owner of the `docker` CLI: runs commands, counts them, turns failures into `SandboxError`s.
/// It inherits the environment, so `DOCKER_HOST` and docker contexts apply.
public final class Docker: Sendable {
    /// The engine's identity: its ID and its data root (two engines on one host share the ID, which comes from
    /// /etc/docker/key.json, but never the data root); nil when it does not answer.
    public func engineID() async -> String? {
        guard let out = try? await run(DockerCommand(["info", "--format", "{{.ID}} {{.DockerRootDir}}"]), check: false), out.status == 0 else { return nil }
        let id = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// Which engine the docker CLI talks to, as the environment names it: nil for the default one.
    public static var engine: String? {
        let environment = ProcessInfo.processInfo.environment
        if let host = environment["DOCKER_HOST"], !host.isEmpty, host != "unix:///var/run/docker.sock" { return host }
        if let context = environment["DOCKER_CONTEXT"], !context.isEmpty, context != "default" { return "context \(context)" }
        return nil
    }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    private let executable: String
    private let calls = Mutex(0)
    private let log = Mutex<[String]>([])

    public init(executable: String = ProcessInfo.processInfo.environment["SANDBOX_DOCKER"] ?? "docker") {
        self.executable = executable
    }

    /// How many `docker` processes this instance has started.
    public var callCount: Int { calls.withLock { $0 } }
    /// Every command run, in order (argv joined), for tests and `--verbose`.
    public var commandLog: [String] { log.withLock { $0 } }

    private func count(_ command: DockerCommand) {
        calls.withLock { $0 += 1 }
        log.withLock { $0.append(command.arguments.joined(separator: " ")) }
    }

    private var executableName: Executable {
        executable.contains("/") ? .path(.init(executable)) : .name(executable)
    }

    private func environment(_ command: DockerCommand) -> Environment {
        command.environment.isEmpty ? .inherit
            : .inherit.updating(Dictionary(uniqueKeysWithValues: command.environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
    }

    /// Runs a command to completion, collecting its output; throws on a non-zero exit unless `check` is false.
    @discardableResult
    public func run(_ command: DockerCommand, check: Bool = true) async throws(SandboxError) -> Output {
        count(command)
        let output: Output
        do {
            let input = try command.input()
            let result = try await Subprocess.run(executableName, arguments: Arguments(command.arguments),
                                                  environment: environment(command), platformOptions: ChildGuard.shared.options(),
                                                  input: .data(input ?? Data()),
                                                  output: .string(limit: 64 << 20), error: .string(limit: 16 << 20))
            output = Output(status: result.terminationStatus.code, stdout: result.standardOutput, stderr: result.standardError)
        } catch {
            throw launchError(error, command)
        }
        if check && output.status != 0 { throw failure(command, output) }
        return output
    }

    /// Runs a command, handing each line of its combined output to `line` as it comes (builds, inits).
    public func stream(_ command: DockerCommand, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Output {
        count(command)
        let status: TerminationStatus
        let tail = Mutex<[String]>([])
        do {
            let input = try command.input()
            let result = try await Subprocess.run(executableName, arguments: Arguments(command.arguments),
                                                  environment: environment(command), platformOptions: ChildGuard.shared.options(),
                                                  input: .data(input ?? Data()),
                                                  output: .sequence, error: .combinedWithOutput) { execution in
                for try await text in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(64 << 10)) {
                    let trimmed = Self.plain(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                    tail.withLock { $0.append(trimmed); if $0.count > 40 { $0.removeFirst($0.count - 40) } }
                    line(trimmed)
                }
            }
            status = result.terminationStatus
        } catch {
            throw launchError(error, command)
        }
        let text = tail.withLock { $0.joined(separator: "\n") }
        let output = Output(status: status.code, stdout: text, stderr: text)
        if output.status != 0 { throw failure(command, output) }
        return output
    }

    /// Runs attached to this terminal (exec, shell, logs --follow) and returns the exit status.
    public func attached(_ command: DockerCommand) async throws(SandboxError) -> Int32 {
        count(command)
        do {
            let result = try await Subprocess.run(executableName, arguments: Arguments(command.arguments),
                                                  environment: environment(command), platformOptions: ChildGuard.attached(),
                                                  input: .currentStandardInput,
                                                  output: .currentStandardOutput, error: .currentStandardError)
            return result.terminationStatus.code
        } catch {
            throw launchError(error, command)
        }
    }

    func launchError(_ error: any Error, _ command: DockerCommand) -> SandboxError {
        if let e = error as? SandboxError { return e }
        let text = "\(error)"
        if text.contains("No such file") || text.contains("executableNotFound") || text.contains("not found") {
            return SandboxError(.dockerMissing, "the docker command was not found (looked for '\(executable)' on PATH)",
                                fix: "install Docker: sudo Scripts/engine-up (Debian/Ubuntu), or put a docker-compatible CLI on PATH")
        }
        return SandboxError(.dockerFailed, "could not run \(command.display): \(text)", fix: "check that the docker CLI works: docker version")
    }

    /// A typed error for a failed command, carrying the tail of its output.
    public func failure(_ command: DockerCommand, _ output: Output) -> SandboxError {
        let tail = Self.tail(output.stderr.isEmpty ? output.stdout : output.stderr, lines: 15)
        if Self.isEngineDown(output.stderr) {
            return SandboxError(.engineUnreachable, "the Docker engine does not answer (\(ProcessInfo.processInfo.environment["DOCKER_HOST"].map { "DOCKER_HOST=\($0)" } ?? "default context"))",
                                fix: Messages.startEngine,
                                detail: tail)
        }
        return SandboxError(.dockerFailed, "`\(command.display)` failed with exit status \(output.status)",
                            fix: "read the output above; `sandbox doctor` checks the engine", detail: tail)
    }

    static func isEngineDown(_ stderr: String) -> Bool {
        stderr.contains("Cannot connect to the Docker daemon") || stderr.contains("Is the docker daemon running")
            || stderr.contains("error during connect") || stderr.contains("connect: no such file or directory")
            || stderr.contains("connection refused")
    }

    /// The text without terminal escape sequences (the classic builder colours a step's standard error).
    static func plain(_ text: String) -> String {
        guard text.contains("\u{1B}") else { return text }
        return text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
    }

    static func tail(_ text: String, lines: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}

/// The exit status as a shell reports it (128 + N for a signal).
extension TerminationStatus {
    public var code: Int32 {
        switch self {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }
}
