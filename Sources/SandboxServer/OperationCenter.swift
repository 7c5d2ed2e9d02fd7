import Foundation
import SandboxKit

/// The operations `serve` runs (up, down, reset, destroy, snapshot save and restore), one at a time per instance.
///
/// Each is a `sandbox … --json` child (``CommandRunner``); its events are kept and handed to every subscriber
/// as they come. Operations on one instance run in the order they were asked for, and the child takes the
/// instance lock as the CLI does, so an operation never interleaves with a CLI command either.
public actor OperationCenter {
    public enum State: String, Sendable { case queued, running, succeeded, failed, cancelled }

    /// What a subscriber is told: each event as it comes, then the finished operation.
    public enum Update: Sendable { case event(JSONObject), finished(Operation) }

    public struct Operation: Sendable {
        public var id: String
        public var kind: String
        public var checkout: String
        public var instance: String
        public var arguments: [String]
        public var state: State = .queued
        public var created: Date
        public var started: Date?
        public var finished: Date?
        public var events: [JSONObject] = []
        public var result: JSONObject?
        public var error: JSONObject?
        public var messages: [String] = []

        var key: String { "\(checkout)/\(instance)" }

        public var json: [String: Any] {
            let iso = ISO8601DateFormatter()
            var object: [String: Any] = ["id": id, "kind": kind, "checkout": checkout, "instance": instance, "state": state.rawValue,
                                         "created": iso.string(from: created), "events": events.map(\.dictionary),
                                         "messages": messages]
            object["started"] = started.map { iso.string(from: $0) } ?? NSNull()
            object["finished"] = finished.map { iso.string(from: $0) } ?? NSNull()
            object["result"] = result?.dictionary ?? NSNull()
            object["error"] = error?.dictionary ?? NSNull()
            return object
        }
    }

    private let runner: CommandRunner
    private var operations: [String: Operation] = [:]
    private var order: [String] = []
    private var waiting: [String: [String]] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var subscribers: [String: [UUID: AsyncStream<Update>.Continuation]] = [:]
    private var everything: [UUID: AsyncStream<(String, Update)>.Continuation] = [:]
    private var stopping = false
    private var counter = 0
    /// Finished operations kept for `GET /operations`.
    private let keep = 200

    public init(runner: CommandRunner) { self.runner = runner }

    /// Queues an operation; it starts when the instance has no other running.
    public func submit(kind: String, checkout: String, instance: String, arguments: [String]) throws(SandboxError) -> Operation {
        guard !stopping else {
            throw SandboxError(.shuttingDown, "sandbox serve is stopping and takes no new operations", fix: "start sandbox serve again and retry")
        }
        counter += 1
        let id = String(format: "op-%04d-%@", counter, String(UUID().uuidString.prefix(8)).lowercased())
        let operation = Operation(id: id, kind: kind, checkout: checkout, instance: instance, arguments: arguments, created: Date())
        operations[id] = operation
        order.append(id)
        waiting[operation.key, default: []].append(id)
        prune()
        startNext(operation.key)
        return operations[id] ?? operation
    }

    public func operation(_ id: String) -> Operation? { operations[id] }

    public func all() -> [Operation] { order.compactMap { operations[$0] } }

    /// The events so far and a stream of what follows; nil for an unknown id.
    public func subscribe(_ id: String) -> (Operation, AsyncStream<Update>)? {
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
    public func wait(_ id: String) async -> Operation? {
        guard let (_, updates) = subscribe(id) else { return nil }
        for await update in updates { if case .finished(let op) = update { return op } }
        return operations[id]
    }

    /// Every operation's updates, as they come.
    public func subscribeAll() -> AsyncStream<(String, Update)> {
        let (stream, continuation) = AsyncStream<(String, Update)>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let token = UUID()
        everything[token] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribeAll(token) } }
        if stopping { continuation.finish() }
        return stream
    }

    /// Cancels a queued operation at once; a running one is stopped (SIGTERM to its child, which is kill-safe:
    /// the next `up` finishes or undoes what it began).
    public func cancel(_ id: String) -> Operation? {
        guard var operation = operations[id] else { return nil }
        switch operation.state {
        case .queued:
            waiting[operation.key]?.removeAll { $0 == id }
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
    public func stop(timeout: Duration) async {
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

    public var isStopping: Bool { stopping }

    // MARK: - Running

    private func startNext(_ key: String) {
        guard !tasks.keys.contains(where: { operations[$0]?.key == key }),
              let id = waiting[key]?.first else { return }
        waiting[key]?.removeFirst()
        operations[id]?.state = .running
        operations[id]?.started = Date()
        let arguments = operations[id]?.arguments ?? []
        let runner = runner
        tasks[id] = Task {
            do {
                let outcome = try await runner.stream(arguments) { event in await self.record(id, event) }
                self.finish(id, outcome: outcome, cancelled: Task.isCancelled)
            } catch {
                self.finish(id, outcome: nil, cancelled: Task.isCancelled, failure: "\(error)")
            }
        }
    }

    private func record(_ id: String, _ event: JSONObject) {
        operations[id]?.events.append(event)
        publish(id, .event(event))
    }

    private func finish(_ id: String, outcome: CommandRunner.Outcome?, cancelled: Bool, failure: String? = nil) {
        guard var operation = operations[id] else { return }
        tasks[id] = nil
        operation.finished = Date()
        if let outcome {
            operation.messages = outcome.messages
            operation.result = outcome.final
            operation.error = outcome.error
        } else {
            operation.error = JSONObject(["event": "error", "code": SandboxError.Code.io.rawValue,
                                          "message": "could not run sandbox: \(failure ?? "unknown")", "fix": "check the server's log"])
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
