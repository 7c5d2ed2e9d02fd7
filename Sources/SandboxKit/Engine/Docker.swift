import Foundation
import Subprocess
import Synchronization
import SandboxBase

/// What a failed docker command means. The docker CLI has no error codes, only the engine's words on standard
/// error; they are read here, once, and everything else asks `Docker.Output.failure`.
package enum EngineFailure: Sendable, Equatable {
    case noSuchContainer, noSuchImage, noSuchManifest, noSuchNetwork, nameInUse, alreadyExists, removalInProgress, portTaken, engineDown
    case outOfSpace, noAddressPool, other

    package init(_ text: String) {
        func any(_ words: String...) -> Bool { words.contains { text.contains($0) } }
        if any("Cannot connect to the Docker daemon", "Is the docker daemon running", "error during connect",
               "connect: no such file or directory", "connection refused") { self = .engineDown }
        else if any("No space left on device", "no space left on device", "Disk quota exceeded") { self = .outOfSpace }
        else if any("port is already allocated", "address already in use") { self = .portTaken }
        else if any("could not find an available, non-overlapping IPv4 address pool") { self = .noAddressPool }
        else if any("is already in progress") { self = .removalInProgress }
        else if any("No such container") { self = .noSuchContainer }
        else if any("No such image", "No such object") { self = .noSuchImage }
        else if any("no such manifest", "manifest unknown") { self = .noSuchManifest }
        else if any("is already in use by container") { self = .nameInUse }
        else if any("already exists") { self = .alreadyExists }
        else if any("No such network") || (any("network") && any("not found")) { self = .noSuchNetwork }
        else { self = .other }
    }
}

/// How docker commands are carried out: the docker CLI in a child process (`DockerCLI`), or, in unit tests, a fake
/// engine that answers from its own state in microseconds.
package protocol EngineTransport: Sendable {
    /// Runs a command to completion; throws only when it could not be started.
    func run(_ command: DockerCommand) async throws(SandboxError) -> Docker.Output
    /// Runs a command, handing each line of its combined output to `line`; the output holds the last lines.
    func stream(_ command: DockerCommand, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Docker.Output
    /// Runs attached to this terminal (exec, shell, logs --follow) and returns the exit status.
    func attached(_ command: DockerCommand) async throws(SandboxError) -> Int32
    /// Starts a program that stays running, fed and read by `EngineSession.send`.
    func session(_ command: DockerCommand) -> any EngineSession
}

/// The one owner of the engine: runs commands through its transport, counts them, turns failures into
/// `SandboxError`s. The real transport inherits the environment, so `DOCKER_HOST` and docker contexts apply.
package final class Docker: Sendable {
    /// The engine's identity: its ID and its data root (two engines on one host share the ID, which comes from
    /// /etc/docker/key.json, but never the data root); nil when it does not answer.
    package func engineID() async -> String? {
        guard let out = try? await run(.engineIdentity, check: false), out.status == 0 else { return nil }
        let id = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// Which engine the docker CLI talks to, as the environment names it: nil for the default one.
    package static var engine: String? {
        let environment = ProcessInfo.processInfo.environment
        if let host = environment["DOCKER_HOST"], !host.isEmpty, host != "unix:///var/run/docker.sock" { return host }
        if let context = environment["DOCKER_CONTEXT"], !context.isEmpty, context != "default" { return "context \(context)" }
        return nil
    }

    package struct Output: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String

        package init(status: Int32, stdout: String = "", stderr: String = "") {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }

        /// Nil on success; otherwise what the engine's words mean.
        package var failure: EngineFailure? { status == 0 ? nil : EngineFailure(stderr.isEmpty ? stdout : stderr) }
    }

    private let transport: any EngineTransport
    private let calls = Mutex(0)
    private let log = Mutex<[String]>([])

    package init(executable: String = ProcessInfo.processInfo.environment["SANDBOX_DOCKER"] ?? "docker") {
        transport = DockerCLI(executable: executable)
    }

    package init(transport: any EngineTransport) {
        self.transport = transport
    }

    /// How many `docker` processes this instance has started.
    package var callCount: Int { calls.withLock { $0 } }
    /// Every command run, in order (argv joined), for tests and `--verbose`.
    package var commandLog: [String] { log.withLock { $0 } }

    private func count(_ command: DockerCommand) {
        calls.withLock { $0 += 1 }
        log.withLock { $0.append(command.arguments.joined(separator: " ")) }
    }

    /// Runs a command to completion, collecting its output; throws on a non-zero exit unless `check` is false.
    @discardableResult
    package func run(_ command: DockerCommand, check: Bool = true) async throws(SandboxError) -> Output {
        count(command)
        let output = try await transport.run(command)
        if check && output.status != 0 { throw failure(command, output) }
        return output
    }

    /// Runs a command, handing each line of its combined output to `line` as it comes (builds, inits).
    package func stream(_ command: DockerCommand, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Output {
        count(command)
        let output = try await transport.stream(command, line: line)
        if output.status != 0 { throw failure(command, output) }
        return output
    }

    /// Runs attached to this terminal (exec, shell, logs --follow) and returns the exit status.
    package func attached(_ command: DockerCommand) async throws(SandboxError) -> Int32 {
        count(command)
        return try await transport.attached(command)
    }

    /// Starts a program in a container that stays running (`docker exec --interactive`), for many requests.
    package func session(_ command: DockerCommand) -> any EngineSession {
        count(command)
        return transport.session(command)
    }

    /// Removes containers by name or ID, killing them if they run. Gone already (removed by hand, by the engine, or
    /// by a removal another command started) is what was wanted; anything else is an error.
    package func forceRemove(_ containers: [String]) async throws(SandboxError) {
        guard !containers.isEmpty else { return }
        let command = DockerCommand.remove(containers, force: true)
        let out = try await run(command, check: false)
        switch out.failure {
        case nil, .noSuchContainer?, .removalInProgress?: return
        default: throw failure(command, out)
        }
    }

    /// A typed error for a failed command, carrying the tail of its output.
    package func failure(_ command: DockerCommand, _ output: Output) -> SandboxError {
        let tail = Self.tail(output.stderr.isEmpty ? output.stdout : output.stderr, lines: 15)
        switch output.failure {
        case .engineDown?:
            let engine = ProcessInfo.processInfo.environment["DOCKER_HOST"].map { "DOCKER_HOST=\($0)" } ?? "default context"
            return SandboxError(.engineUnreachable, "the Docker engine does not answer (\(engine))", fix: Messages.startEngine, detail: tail)
        case .outOfSpace?:
            return SandboxError(.diskFull, "`\(command.display)` failed: the engine's disk is full",
                                fix: "free space where Docker keeps its data (`docker system df`, `docker image prune`), then run the command again",
                                detail: tail)
        case .noAddressPool?:
            return SandboxError(.dockerFailed, "the Docker engine has no addresses left for another network (each instance has one; "
                                + "an engine gives about 30 by default)",
                                fix: "destroy instances no one uses (`sandbox ls`, `sandbox destroy --instance NAME`), or give the engine more: "
                                + "`default-address-pools` in /etc/docker/daemon.json (Scripts/engine-up starts its engine with 256)",
                                detail: tail)
        default:
            return SandboxError(.dockerFailed, "`\(command.display)` failed with exit status \(output.status)",
                                fix: "read the output above; `sandbox doctor` checks the engine", detail: tail)
        }
    }

    /// The text without terminal escape sequences (the classic builder colours a step's standard error).
    static func plain(_ text: String) -> String {
        guard text.contains("\u{1B}") else { return text }
        return text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
    }

    package static func tail(_ text: String, lines: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}

/// The docker CLI as the engine's transport: each command a child process in `ChildGuard`'s group.
struct DockerCLI: EngineTransport {
    var executable: String

    private var executableName: Executable {
        executable.contains("/") ? .path(.init(executable)) : .name(executable)
    }

    private func environment(_ command: DockerCommand) -> Environment {
        command.environment.isEmpty ? .inherit
            : .inherit.updating(Dictionary(uniqueKeysWithValues: command.environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
    }

    func run(_ command: DockerCommand) async throws(SandboxError) -> Docker.Output {
        do {
            let input = try command.input()
            let result = try await Subprocess.run(executableName, arguments: Arguments(command.arguments),
                                                  environment: environment(command), platformOptions: ChildGuard.shared.options(),
                                                  input: .data(input ?? Data()),
                                                  output: .string(limit: 64 << 20), error: .string(limit: 16 << 20))
            return Docker.Output(status: result.terminationStatus.code, stdout: result.standardOutput, stderr: result.standardError)
        } catch {
            throw launchError(error, command)
        }
    }

    func stream(_ command: DockerCommand, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Docker.Output {
        let tail = Mutex<[String]>([])
        do {
            let input = try command.input()
            let result = try await Subprocess.run(executableName, arguments: Arguments(command.arguments),
                                                  environment: environment(command), platformOptions: ChildGuard.shared.options(),
                                                  input: .data(input ?? Data()),
                                                  output: .sequence, error: .combinedWithOutput) { execution in
                for try await text in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(64 << 10)) {
                    let trimmed = Docker.plain(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                    tail.withLock { $0.append(trimmed); if $0.count > 40 { $0.removeFirst($0.count - 40) } }
                    line(trimmed)
                }
            }
            let text = tail.withLock { $0.joined(separator: "\n") }
            return Docker.Output(status: result.terminationStatus.code, stdout: text, stderr: text)
        } catch {
            throw launchError(error, command)
        }
    }

    func attached(_ command: DockerCommand) async throws(SandboxError) -> Int32 {
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

    func session(_ command: DockerCommand) -> any EngineSession {
        DockerSession(executable: executableName, command: command, environment: environment(command))
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
}

/// The exit status as a shell reports it (128 + N for a signal).
extension TerminationStatus {
    package var code: Int32 {
        switch self {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }
}
