import Foundation
import SandboxBase
import Synchronization

/// Live progress for a terminal, in the manner of docker compose v2: one line per image and
/// service with its current step and elapsed time, each collapsing to a one-line result when done.
package final class TerminalReporter: ProgressReporter, Sendable {
    struct Line {
        var target: String
        var total: Int
        var done = 0
        var step = "waiting"
        var detail = ""
        var started: Duration?
        var elapsed: Duration = .zero
        var failed = false
    }

    struct State {
        var lines: [Line] = []
        var drawn = 0
        var messages: [String] = []
        var frame = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let write: @Sendable (String) -> Void
    private let width: Int
    /// Time since some fixed origin; injected so tests need no clock.
    private let now: @Sendable () -> Duration

    package init(width: Int = TerminalReporter.terminalWidth(),
                 write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) },
                now: @escaping @Sendable () -> Duration = TerminalReporter.sinceStart()) {
        self.width = max(40, width)
        self.write = write
        self.now = now
    }

    /// The real clock: time since the reporter was made.
    package static func sinceStart() -> @Sendable () -> Duration {
        let clock = ContinuousClock()
        let origin = clock.now
        return { clock.now - origin }
    }

    package static func terminalWidth() -> Int {
        var size = winsize()
        return ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 100
    }

    package func report(_ event: ProgressEvent) {
        state.withLock { s in
            guard !s.closed else { return }
            switch event {
            case let .planned(plan):
                var order: [String] = []
                var counts: [String: Int] = [:]
                for action in plan.onSuccessPath where action.changes {
                    if counts[action.targetText] == nil { order.append(action.targetText) }
                    counts[action.targetText, default: 0] += 1
                }
                s.lines = order.map { Line(target: $0, total: counts[$0] ?? 0) }
            case let .started(action) where action.changes:
                update(&s, action.targetText) { line in
                    line.step = action.name
                    line.detail = ""
                    if line.started == nil { line.started = now() }
                }
            case let .output(action, text):
                update(&s, action.targetText) { $0.detail = text.trimmingCharacters(in: .whitespaces) }
            case let .finished(action, _) where action.changes:
                update(&s, action.targetText) { line in
                    line.done += 1
                    if let started = line.started { line.elapsed = now() - started }
                    line.detail = ""
                }
            case let .failed(action, error):
                update(&s, action.targetText) { line in
                    line.failed = true
                    line.detail = error.message
                    if let started = line.started { line.elapsed = now() - started }
                }
            case let .message(text):
                s.messages.append(text)
            default:
                break
            }
            redraw(&s)
        }
    }

    /// Advances the spinner and elapsed times; call a few times a second while work runs.
    package func tick() {
        state.withLock { s in
            guard !s.closed else { return }
            s.frame += 1
            redraw(&s)
        }
    }

    /// Draws the final state once and stops drawing, so later output is not overwritten.
    package func close() {
        state.withLock { s in
            guard !s.closed else { return }
            redraw(&s)
            s.closed = true
        }
    }

    private func update(_ s: inout State, _ target: String, _ change: (inout Line) -> Void) {
        if let i = s.lines.firstIndex(where: { $0.target == target }) { change(&s.lines[i]) }
    }

    private func redraw(_ s: inout State) {
        var out = ""
        if s.drawn > 0 { out += "\u{1B}[\(s.drawn)A" }
        for message in s.messages { out += "\u{1B}[2K\(message)\n" }
        s.messages = []
        let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        let nameWidth = min(40, (s.lines.map(\.target.count).max() ?? 10) + 1)
        for line in s.lines {
            let finished = line.done >= line.total
            let running = line.started != nil && !finished && !line.failed
            let elapsed = running ? (line.started.map { now() - $0 } ?? .zero) : line.elapsed
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let mark = line.failed ? "✘" : finished ? "✔" : running ? spinner[s.frame % spinner.count] : " "
            let status = line.failed ? "Failed: \(line.step)" : finished ? Self.result(line.step) : line.step
            var text = " \(mark) \(line.target.padding(toLength: nameWidth, withPad: " ", startingAt: 0)) \(status)"
            if !line.detail.isEmpty && !finished { text += "  \(line.detail)" }
            let time = line.started == nil ? "" : Formatting.fixed(seconds, places: 1) + "s"
            let room = width - time.count - 2
            if text.count > room { text = String(text.prefix(max(10, room - 1))) + "…" }
            text = text.padding(toLength: room, withPad: " ", startingAt: 0) + " " + time
            out += "\u{1B}[2K\(text)\n"
        }
        s.drawn = s.lines.count
        write(out)
    }

    /// The collapsed line for a target whose last action was `step`.
    static func result(_ step: String) -> String {
        if step.hasPrefix("Build") { return "Built" }
        if step.hasPrefix("Write") || step.hasPrefix("Discard") || step.hasPrefix("Finish") { return "Done" }
        if step.hasPrefix("EnsureBaseImage") { return "Ready" }
        if step.hasPrefix("RemoveContainer") { return "Removed" }
        return "Running"
    }
}
