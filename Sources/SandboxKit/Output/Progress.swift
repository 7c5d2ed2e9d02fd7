import Foundation
import SandboxBase
import SandboxPlan

/// What the executor tells the person (or program) watching an `up`.
package enum ProgressEvent: Sendable {
    /// The plan about to be carried out (lets a renderer know what each target still has to do).
    case planned(Plan)
    case started(Plan.Action)
    /// A line of a build, init or step's output (also written to the log file).
    case output(Plan.Action, String)
    case finished(Plan.Action, seconds: Double)
    case failed(Plan.Action, SandboxError)
    case message(String)
}

/// Receives progress events; renderers for terminals, plain logs and JSON implement it.
package protocol ProgressReporter: Sendable {
    func report(_ event: ProgressEvent)
}

/// Reports nothing (tests, `--quiet`).
package struct SilentReporter: ProgressReporter {
    package init() {}
    package func report(_ event: ProgressEvent) {}
}

/// One plain line per finished action, no escape codes: for logs and CI.
package struct PlainReporter: ProgressReporter {
    let write: @Sendable (String) -> Void

    package init(write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) {
        self.write = write
    }

    package func report(_ event: ProgressEvent) {
        switch event {
        case let .started(action) where action.changes:
            write("\(action.targetText): \(action.name) (\(action.cause))")
        case let .finished(action, seconds) where action.changes:
            write("\(action.targetText): \(action.name) done in \(Formatting.fixed(seconds, places: 1))s")
        case let .failed(action, _):
            write("\(action.targetText): \(action.name) failed")
        case let .message(text):
            write(text)
        default:
            break
        }
    }
}

/// Progress for people on a terminal (live lines, redrawn a few times a second), for logs (plain lines),
/// or for programs (JSON lines), chosen from where standard output goes.
package final class LiveProgress: Sendable {
    package let reporter: any ProgressReporter
    private let ticker: Task<Void, Never>?
    private let terminal: TerminalReporter?

    package init(json: Bool, terminal isTerminal: Bool = isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb") {
        if json {
            reporter = JSONReporter()
            ticker = nil
            terminal = nil
        } else if isTerminal {
            let live = TerminalReporter()
            reporter = live
            terminal = live
            ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(150))
                    live.tick()
                }
            }
        } else {
            reporter = PlainReporter()
            ticker = nil
            terminal = nil
        }
    }

    /// Stops the live lines; call before printing anything else.
    package func finish() {
        ticker?.cancel()
        terminal?.close()
    }
}
