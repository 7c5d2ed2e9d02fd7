import Foundation
import Subprocess
import Synchronization
import SandboxBase

/// A program kept running in a container, fed text on its standard input and read line by line: the lease pool's SQL
/// client, so a copy costs one round trip to the server instead of a `docker exec` (tens of milliseconds) each.
package protocol EngineSession: Sendable {
    /// Sends `text` followed by `markerText`, and returns every line printed before `marker` appeared alone on a line.
    /// Throws when the program ends first (its error output is the detail), or when `timeout` passes (it is ended).
    func send(_ text: String, markerText: String, marker: String, timeout: Duration) async throws(SandboxError) -> [String]
    /// Ends the program: its standard input is closed.
    func close() async
    /// Whether it still runs.
    var isOpen: Bool { get }
}

package enum EngineSessions {
    /// A request that never reached the program: it had ended (an error in an earlier request, a `close`). Nothing of it
    /// ran, so sending it again through a new session is safe (`replan`).
    package static func undelivered(_ display: String, detail: String? = nil) -> SandboxError {
        var error = SandboxError(.dockerFailed, "the session (\(display)) had ended before the request was sent", detail: detail)
        error.replan = true
        return error
    }
}

/// `docker exec --interactive` with the session command, driven from a task that owns the child for its whole life
/// (swift-subprocess lends the standard input writer only inside its closure): requests reach it through a stream,
/// each answered in order.
final class DockerSession: EngineSession {
    private struct Request: Sendable {
        var text: String
        var marker: String
        var reply: CheckedContinuation<Result<[String], SandboxError>, Never>
    }

    private let requests: AsyncStream<Request>
    private let feed: AsyncStream<Request>.Continuation
    private let task = Mutex<Task<Void, Never>?>(nil)
    private final class Flag: Sendable { let value = Mutex(true) }
    private let open = Flag()
    private let display: String
    /// Why it ended (the program's last error lines), for requests it never received.
    private final class Reason: Sendable { let value = Mutex<String?>(nil) }
    private let ending = Reason()

    init(executable: Executable, command: DockerCommand, environment: Environment) {
        (requests, feed) = AsyncStream.makeStream(of: Request.self)
        display = command.display
        let requests = self.requests, feed = self.feed, open = self.open, display = self.display, ending = self.ending
        let run = Task {
            var pending: Request?
            // A write that fails finds the program gone before the request: nothing of it ran.
            var unwritten = false
            var stderr = ""
            do {
                let first = try command.input() ?? Data()
                let result = try await Subprocess.run(executable, arguments: Arguments(command.arguments), environment: environment,
                                                      platformOptions: ChildGuard.shared.options(), input: .inputWriter,
                                                      output: .sequence, error: .string(limit: 64 << 10)) { execution in
                    _ = try await execution.standardInputWriter.write(Array(first))
                    var lines = execution.standardOutput.strings(bufferingPolicy: .maxLineLength(1 << 20)).makeAsyncIterator()
                    for await request in requests {
                        pending = request
                        do { _ = try await execution.standardInputWriter.write(Array(request.text.utf8)) } catch {
                            unwritten = true
                            throw error
                        }
                        var out: [String] = []
                        while true {
                            guard let raw = try await lines.next() else {
                                open.value.withLock { $0 = false }
                                return
                            }
                            let line = raw.hasSuffix("\n") ? String(raw.dropLast()) : raw
                            if line == request.marker { break }
                            out.append(line)
                        }
                        pending = nil
                        request.reply.resume(returning: .success(out))
                    }
                    try await execution.standardInputWriter.finish()
                }
                stderr = result.standardError
            } catch {
                stderr = "\(error)"
            }
            let detail = Docker.tail(Docker.plain(stderr), lines: 12)
            ending.value.withLock { $0 = detail }
            open.value.withLock { $0 = false }
            let failure = SandboxError(.dockerFailed, "the session (\(display)) ended", detail: detail)
            pending?.reply.resume(returning: .failure(unwritten ? EngineSessions.undelivered(display, detail: detail) : failure))
            // Whatever was queued behind it is answered too, as never sent: nobody waits for a session that is gone.
            feed.finish()
            for await request in requests { request.reply.resume(returning: .failure(EngineSessions.undelivered(display, detail: detail))) }
        }
        task.withLock { $0 = run }
    }

    var isOpen: Bool { open.value.withLock { $0 } }

    func send(_ text: String, markerText: String, marker: String, timeout: Duration) async throws(SandboxError) -> [String] {
        guard isOpen else { throw EngineSessions.undelivered(display, detail: ending.value.withLock { $0 }) }
        let body = text.hasSuffix("\n") ? text : text + "\n"
        let feed = self.feed, display = self.display, ending = self.ending
        let answer: Result<[String], SandboxError> = await withTaskGroup(of: Result<[String], SandboxError>?.self) { group in
            group.addTask {
                await withCheckedContinuation { reply in
                    if case .terminated = feed.yield(Request(text: body + markerText + "\n", marker: marker, reply: reply)) {
                        reply.resume(returning: .failure(EngineSessions.undelivered(display, detail: ending.value.withLock { $0 })))
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil {
                // Timed out: the child is stopped, which answers the request.
                task.withLock { $0?.cancel() }
                return .failure(SandboxError(.dockerFailed, "the session (\(display)) did not answer within \(timeout)",
                                             fix: "see the server's log: `sandbox logs SERVICE`"))
            }
            group.cancelAll()
            return first!
        }
        return try answer.get()
    }

    func close() async {
        open.value.withLock { $0 = false }
        feed.finish()
        let run = task.withLock { $0 }
        await run?.value
    }
}
