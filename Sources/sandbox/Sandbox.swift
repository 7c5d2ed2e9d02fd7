import ArgumentParser
import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxPlan
import SandboxOutput
import SandboxOperations
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
        version: BuildInfo.text,
        subcommands: [Up.self, Plan.self, Check.self, Build.self, Status.self, List.self, Env.self, Restart.self, Down.self, Destroy.self,
                      Logs.self, Exec.self, Shell.self, Client.self, Reset.self, Snapshot.self, Db.self, Store.self, Push.self, GC.self, Doctor.self,
                      Serve.self, NotifyDeliver.self, Layout.self]
    )
}

/// `--checkout`, for every command that reads a checkout.
struct CheckoutOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The checkout (default: the nearest folder upwards with Recipes/).", valueName: "path"))
    var checkout: String?

    func workspace() throws -> Workspace { try Workspace.load(path: checkout) }

    /// The core's operations on this checkout.
    var core: Core { Core(checkout: checkout, executable: Sandbox.Serve.executablePath()) }

    /// The checkout alone: no recipes read, no data store mounted (for `store`, which must work either way).
    func findCheckout() throws -> Checkout {
        try Checkout.find(from: URL(fileURLWithPath: checkout ?? FileManager.default.currentDirectoryPath))
    }
}

/// Which sandbox and instance a command acts on: the same flags on every command.
/// `--sandbox NAME` everywhere; commands whose only argument is the sandbox also take it positionally.
struct InstanceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The sandbox (may be left out when Recipes/ holds one, or the instance names it).", valueName: "name"))
    var sandbox: String?

    @Option(name: .long, help: ArgumentHelp("The instance to act on (default: $SANDBOX_INSTANCE, else dev).", valueName: "name"))
    var instance: String?

    @OptionGroup var location: CheckoutOption

    var instanceName: String { instance ?? ProcessInfo.processInfo.environment["SANDBOX_INSTANCE"] ?? "dev" }

    func workspace() throws -> Workspace { try location.workspace() }

    var core: Core { location.core }

    /// The instance to act on; `positional` is the sandbox given as an argument, an alias of `--sandbox`.
    func target(_ positional: String? = nil, registry: Registry? = nil) throws -> Core.Target {
        if let positional, let sandbox, positional != sandbox {
            throw ValidationError("the sandbox is named twice ('\(positional)' and --sandbox \(sandbox)); name it once")
        }
        return Core.Target(sandbox: positional ?? sandbox, instance: instanceName, registry: registry)
    }

    /// The instance; `positional` is the sandbox given as an argument, an alias of `--sandbox`.
    func instance(_ positional: String? = nil, in workspace: Workspace? = nil) throws -> SandboxOperations.Instance {
        if let positional, let sandbox, positional != sandbox {
            throw ValidationError("the sandbox is named twice ('\(positional)' and --sandbox \(sandbox)); name it once")
        }
        return try (workspace ?? self.workspace()).instance(sandbox: positional ?? sandbox, instance: instanceName)
    }
}

/// `--no-wait`, for every command that changes an instance (and so holds its lock).
struct WaitOption: ParsableArguments {
    @Flag(help: "Fail with instance-busy instead of waiting when another command holds this instance.")
    var noWait = false

    var wait: Bool { !noWait }
}

/// Runs `body` with live progress (terminal lines, plain lines or JSON events), stopped before results are printed.
func withProgress<T>(json: Bool, _ body: (any ProgressReporter) async throws -> T) async throws -> T {
    let progress = LiveProgress(json: json)
    defer { progress.finish() }
    return try await body(progress.reporter)
}

/// The sandbox as a positional argument, for commands that take no other.
struct SandboxArgument: ParsableArguments {
    @Argument(help: "The sandbox (same as --sandbox; may be left out when Recipes/ holds one).")
    var name: String?
}

/// `--json`, for commands that print results.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print JSON lines: events, then one result object (docs/json.md).")
    var json = false
}

/// `--json` and `--show-secrets`, for commands that print connection URLs.
struct OutputOptions: ParsableArguments {
    @OptionGroup var format: JSONOption

    @Flag(help: "Show passwords in URLs (they are masked as *** otherwise; `sandbox env` always shows them).")
    var showSecrets = false

    var json: Bool { format.json }
}

extension Sandbox {
    /// What a build without the `Server` trait (Scripts/setup's quick first build) answers for `serve`: whether the
    /// whole build is on its way (Scripts/setup's background build holds `.build/setup-whole.lock`), or failed.
    static func withoutServer(_ command: String) -> SandboxError {
        let exe = Serve.executablePath()
        let root = exe.range(of: "/.build").map { String(exe[..<$0.lowerBound]) }
        let again = "run `\(root.map { "cd \($0) && " } ?? "")Scripts/setup` again (with sudo if you ran it so): it builds the whole one"
        var fix = again
        if let root {
            let log = root + "/.build/setup-whole.log"
            let fd = open(root + "/.build/setup-whole.lock", O_RDONLY | O_CLOEXEC)
            let building = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) != 0
            if fd >= 0 { close(fd) }
            let failed = (try? String(contentsOfFile: log, encoding: .utf8))?.contains("the whole build failed") ?? false
            if building {
                fix = "the whole build is on its way (log: \(log)); .build/sandbox is switched to it when it is done"
            } else if failed {
                fix = "the whole build failed in the background (see \(log)); " + again + " and shows why"
            }
        }
        return SandboxError(.notBuilt, "this sandbox (\(exe)) is the quick build, without `\(command)` and the delivery of notifications",
                            fix: fix)
    }
}

/// Prints a failure the way people can act on it, and exits non-zero.
func reporting<T>(json: Bool = false, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as SandboxError {
        if json, let event = ErrorEvent(error) { JSONOutput.emit(event) }
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode.failure
    } catch let error as RecipeErrors {
        if json, let event = ErrorEvent(error) { JSONOutput.emit(event) }
        FileHandle.standardError.write(Data((error.description
            + "\n\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s") in recipes; "
            + "fix them and run `sandbox check`\n").utf8))
        throw ExitCode.failure
    }
}

/// Prints the core's objects as `--json` lines: the same encoding `sandbox serve` sends (`JSONLine`).
enum JSONOutput {
    static func emit<T: Encodable>(_ value: T) {
        FileHandle.standardOutput.write(JSONLine.data(value) + Data("\n".utf8))
    }
}

func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

@main
enum Main {
    static func main() async {
        await Sandbox.main(Workspace.expandClientShortcut(Array(CommandLine.arguments.dropFirst()),
                                                          commands: Sandbox.configuration.subcommands.map { $0._commandName }))
    }
}
