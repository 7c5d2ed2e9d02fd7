import ArgumentParser
import Foundation
import SandboxKit

struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Isolated backing services (PostgreSQL, MariaDB, ...) for a checkout, from recipes in Recipes/.",
        discussion: """
        Install and update are one command: `sandbox up` builds what is missing, initialises fresh data once,
        and on every later run changes only what changed, keeping the data.

        Example:
          sandbox up                      # the dev instance of the only sandbox in Recipes/
          eval "$(sandbox env)"           # export its DATABASE_URL and friends
          sandbox up --instance shard-3   # another, fully isolated copy
        """,
        subcommands: [Up.self, Plan.self, Check.self, Build.self, Status.self, List.self, Env.self, Down.self, Destroy.self,
                      Logs.self, Exec.self, Shell.self, Client.self, Reset.self, Snapshot.self, Doctor.self]
    )
}

/// `--checkout`, for every command that reads a checkout.
struct CheckoutOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The checkout (default: the nearest folder upwards with Recipes/).", valueName: "path"))
    var checkout: String?

    func workspace() throws -> Workspace { try Workspace.load(path: checkout) }
}

/// Flags every instance command shares.
struct InstanceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The instance to act on (default: $SANDBOX_INSTANCE, else dev).", valueName: "name"))
    var instance: String?

    @OptionGroup var location: CheckoutOption

    var instanceName: String { instance ?? ProcessInfo.processInfo.environment["SANDBOX_INSTANCE"] ?? "dev" }

    func validate() throws {
        do { try InstanceLayout.validate(instance: instanceName) } catch { throw ValidationError(error.message + "; " + (error.fix ?? "")) }
    }

    func workspace() throws -> Workspace { try location.workspace() }

    func instance(_ sandbox: String?) throws -> SandboxKit.Instance {
        try workspace().instance(sandbox: sandbox, instance: instanceName)
    }
}

/// Prints a failure the way people can act on it, and exits non-zero.
func reporting<T>(json: Bool = false, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as SandboxError {
        if json { JSONOutput.emit(["event": "error", "code": error.code.rawValue, "message": error.message, "fix": error.fix ?? ""]) }
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode.failure
    } catch let error as RecipeErrors {
        if json {
            JSONOutput.emit(["event": "error", "code": SandboxError.Code.invalidRecipes.rawValue,
                             "message": "\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s") in recipes",
                             "fix": "fix them and run `sandbox check`",
                             "diagnostics": error.diagnostics.map { ["path": $0.location.path, "line": $0.location.line,
                                                                     "column": $0.location.column, "message": $0.message] as [String: Any] }])
        }
        FileHandle.standardError.write(Data((error.description + "\n\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s") in recipes; fix them and run `sandbox check`\n").utf8))
        throw ExitCode.failure
    }
}

enum JSONOutput {
    static func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func emit<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

/// Progress for people on a terminal (live lines), for logs (plain lines), or for programs (JSON lines).
struct Progress {
    let reporter: any ProgressReporter
    private let ticker: Task<Void, Never>?
    private let terminal: TerminalReporter?

    init(json: Bool) {
        if json {
            reporter = JSONReporter()
            ticker = nil
            terminal = nil
        } else if isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" {
            let terminal = TerminalReporter()
            reporter = terminal
            self.terminal = terminal
            ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(150))
                    terminal.tick()
                }
            }
        } else {
            reporter = PlainReporter()
            ticker = nil
            terminal = nil
        }
    }

    /// Stops the live lines; call before printing anything else.
    func finish() {
        ticker?.cancel()
        terminal?.close()
    }
}

/// `sandbox psql ...` is `sandbox client psql ...` when a recipe's image offers a client named psql.
@main
enum Main {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-"), !Sandbox.configuration.subcommands.contains(where: { $0._commandName == first }),
           let workspace = try? Workspace.load(path: nil),
           workspace.recipes.images.values.contains(where: { $0.service?.client?.name == first }) {
            arguments.insert("client", at: 0)
        }
        await Sandbox.main(arguments)
    }
}
