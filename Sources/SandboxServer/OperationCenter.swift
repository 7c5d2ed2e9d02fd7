import Foundation
import SandboxBase
import SandboxOutput
import SandboxKit

/// What an operation ended with: the core's result object of its kind.
package enum OperationResult: Sendable, Encodable {
    case up(UpResult)
    case removal(RemovalResult)
    case snapshotSaved(SnapshotSaved)
    case snapshotDeleted(SnapshotDeleted)

    package func encode(to encoder: any Encoder) throws {
        switch self {
        case let .up(r): try r.encode(to: encoder)
        case let .removal(r): try r.encode(to: encoder)
        case let .snapshotSaved(r): try r.encode(to: encoder)
        case let .snapshotDeleted(r): try r.encode(to: encoder)
        }
    }
}

/// The operations `serve` runs (up, down, reset, destroy, snapshot save, restore and delete), one at a time per instance.
///
/// Each is a call into the core, in this process; its progress events are kept and handed to every subscriber as
/// they come. Operations on one instance run in the order they were asked for, and the core takes the instance's
/// file lock as a CLI process does, so an operation never interleaves with a CLI command either.
package actor OperationCenter {
    package enum State: String, Sendable, Encodable { case queued, running, succeeded, failed, cancelled }

    /// The work of one operation: the core's call, reporting progress to the reporter it is given.
    package typealias Job = @Sendable (any ProgressReporter) async throws -> OperationResult

    /// What a subscriber is told: each event as it comes, then the finished operation.
    package enum Update: Sendable { case event(ProgressRecord), finished(Operation) }

    package struct Operation: Sendable, Encodable {
        package var id: String
        package var kind: String
        package var checkout: String
        package var instance: String
        package var state: State = .queued
        package var created: Date
        package var started: Date?
        package var finished: Date?
        package var events: [ProgressRecord] = []
        package var result: OperationResult?
        package var error: ErrorEvent?
        /// A failure's full text (its message, the failing command's last lines, the fix), for the page.
        package var messages: [String] = []

        var key: String { "\(checkout)/\(instance)" }

        enum CodingKeys: String, CodingKey { case id, kind, checkout, instance, state, created, started, finished, events, result, error, messages }

        /// Every key is always there (`null` when unset), as docs/serve.md and the OpenAPI document say.
        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(kind, forKey: .kind)
            try c.encode(checkout, forKey: .checkout)
            try c.encode(instance, forKey: .instance)
            try c.encode(state, forKey: .state)
            try c.encode(created, forKey: .created)
            try c.encode(started, forKey: .started)
            try c.encode(finished, forKey: .finished)
            try c.encode(events, forKey: .events)
            try c.encode(result, forKey: .result)
            try c.encode(error, forKey: .error)
            try c.encode(messages, forKey: .messages)
        }
    }

    private var operations: [String: Operation] = [:]
    private var order: [String] = []
    private var jobs: [String: Job] = [:]
    private var waiting: [String: [String]] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var subscribers: [String: [UUID: AsyncStream<Update>.Continuation]] = [:]
    private var everything: [UUID: AsyncStream<(String, Update)>.Continuation] = [:]
    private var stopping = false
    private var counter = 0
    /// Finished operations kept for `GET /operations`.
    private let keep = 200

    package init() {}

    /// Queues an operation; it starts when the instance has no other running.
    /// Operations queued or running at once.
    static let pendingLimit = 64

    package func submit(kind: String, checkout: String, instance: String, job: @escaping Job) throws(SandboxError) -> Operation {
        guard !stopping else {
            throw SandboxError(.shuttingDown, "sandbox serve is stopping and takes no new operations", fix: "start sandbox serve again and retry")
        }
        // Operations wait for their instance's lock in turn; a flood of them is refused rather than queued without end.
        let pending = operations.values.filter { $0.state == .queued || $0.state == .running }.count
        guard pending < Self.pendingLimit else {
            throw SandboxError(.serverBusy, "sandbox serve already has \(pending) operations queued or running",
                               fix: "retry once some have finished (GET /api/v1/operations shows them)")
        }
        counter += 1
        let id = "op-" + Formatting.decimal(UInt64(counter), width: 4) + "-" + String(UUID().uuidString.prefix(8)).lowercased()
        let operation = Operation(id: id, kind: kind, checkout: checkout, instance: instance, created: Date())
        operations[id] = operation
        jobs[id] = job
        order.append(id)
        waiting[operation.key, default: []].append(id)
        prune()
        startNext(operation.key)
        return operations[id] ?? operation
    }

    package func operation(_ id: String) -> Operation? { operations[id] }

    package func all() -> [Operation] { order.compactMap { operations[$0] } }

    /// The events so far and a stream of what follows; nil for an unknown id.
    package func subscribe(_ id: String) -> (Operation, AsyncStream<Update>)? {
        guard let operation = operations[id] else { return nil }
        let (stream, continuation) = AsyncStream<Update>.makeStream(bufferingPolicy: .unbounded)
        if isDone(operation.state) {
            continuation.yield(.finished(operation))
            continuation.finish()
        } else {
            let token = UUID()
            subscribers[id, default: [:]][token] = continuation
            continuation.onTermination = { _ in Task { await self.unsubscribe(id, token) } }
        }
        return (operation, stream)
    }

    /// Waits for an operation to finish; nil for an unknown id.
    package func wait(_ id: String) async -> Operation? {
        guard let (_, updates) = subscribe(id) else { return nil }
        for await update in updates { if case .finished(let op) = update { return op } }
        return operations[id]
    }

    /// Every operation's updates, as they come.
    package func subscribeAll() -> AsyncStream<(String, Update)> {
        let (stream, continuation) = AsyncStream<(String, Update)>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let token = UUID()
        everything[token] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribeAll(token) } }
        if stopping { continuation.finish() }
        return stream
    }

    /// Cancels a queued operation at once; a running one is stopped (its task is cancelled, which ends its docker
    /// and host children as a Ctrl-C would: kill-safe, the next `up` finishes or undoes what it began).
    package func cancel(_ id: String) -> Operation? {
        guard var operation = operations[id] else { return nil }
        switch operation.state {
        case .queued:
            waiting[operation.key]?.removeAll { $0 == id }
            jobs[id] = nil
            operation.state = .cancelled
            operation.finished = Date()
            operations[id] = operation
            publish(id, .finished(operation))
        case .running:
            tasks[id]?.cancel()
        case .succeeded, .failed, .cancelled:
            break
        }
        return operations[id]
    }

    /// Stops taking operations, cancels queued ones, lets running ones finish for up to `timeout`, then cancels them.
    package func stop(timeout: Duration) async {
        stopping = true
        for (_, ids) in waiting { for id in ids { _ = cancel(id) } }
        let deadline = ContinuousClock.now + timeout
        while !tasks.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        for id in tasks.keys { tasks[id]?.cancel() }
        while !tasks.isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        for (_, c) in everything { c.finish() }
    }

    package var isStopping: Bool { stopping }

    // MARK: - Running

    private func startNext(_ key: String) {
        guard !tasks.keys.contains(where: { operations[$0]?.key == key }),
              let id = waiting[key]?.first, let job = jobs.removeValue(forKey: id) else { return }
        waiting[key]?.removeFirst()
        operations[id]?.state = .running
        operations[id]?.started = Date()
        tasks[id] = Task {
            // Events reach the record in the order the core reported them.
            let (records, input) = AsyncStream<ProgressRecord>.makeStream(bufferingPolicy: .unbounded)
            let pump = Task { for await record in records { self.record(id, record) } }
            let outcome: Result<OperationResult, any Error>
            do { outcome = .success(try await job(RecordingReporter { input.yield($0) })) } catch { outcome = .failure(error) }
            input.finish()
            await pump.value
            self.finish(id, outcome, cancelled: Task.isCancelled)
        }
    }

    private func record(_ id: String, _ event: ProgressRecord) {
        operations[id]?.events.append(event)
        publish(id, .event(event))
    }

    private func finish(_ id: String, _ outcome: Result<OperationResult, any Error>, cancelled: Bool) {
        guard var operation = operations[id] else { return }
        tasks[id] = nil
        operation.finished = Date()
        switch outcome {
        case let .success(result):
            operation.result = result
        case let .failure(error):
            operation.error = ErrorEvent(error) ?? ErrorEvent(code: .io, message: "the operation failed: \(error)", fix: Messages.serverLog)
            operation.messages = String(describing: error).split(separator: "\n").suffix(40).map(String.init)
        }
        operation.state = cancelled ? .cancelled : (operation.error == nil ? .succeeded : .failed)
        operations[id] = operation
        publish(id, .finished(operation))
        for (_, c) in subscribers[id] ?? [:] { c.finish() }
        subscribers[id] = nil
        startNext(operation.key)
    }

    private func publish(_ id: String, _ update: Update) {
        for (_, c) in subscribers[id] ?? [:] { c.yield(update) }
        for (_, c) in everything { c.yield((id, update)) }
    }

    private func unsubscribe(_ id: String, _ token: UUID) { subscribers[id]?[token] = nil }
    private func unsubscribeAll(_ token: UUID) { everything[token] = nil }

    private func isDone(_ state: State) -> Bool { state == .succeeded || state == .failed || state == .cancelled }

    private func prune() {
        while order.count > keep, let index = order.firstIndex(where: { operations[$0].map { isDone($0.state) } ?? true }) {
            operations[order[index]] = nil
            order.remove(at: index)
        }
    }
}
