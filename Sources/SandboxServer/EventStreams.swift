import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import SandboxBase
import SandboxOutput

/// Server-Sent Events: an operation's progress, every operation's, and a service's log as it grows.
///
/// Each stream ends when what it follows ends, when the client goes away (a comment every 15 s finds out),
/// or when `serve` stops.
enum EventStreams {
    static let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store",
                                      HTTPField.Name("X-Accel-Buffering")!: "no"]

    /// One SSE message.
    static func message(_ event: String, _ data: String) -> ByteBuffer {
        ByteBuffer(string: "event: \(event)\ndata: \(data.replacingOccurrences(of: "\n", with: "\ndata: "))\n\n")
    }

    /// The operation's events so far, then each as it comes (`event:` is the JSON object's own `event`), then its
    /// `result` or `error` object (as `--json` ends), then `end` with the finished operation.
    static func operation(_ op: OperationCenter.Operation, center: OperationCenter) async throws -> Response {
        // The snapshot and the subscription are taken together, so no event is missed or sent twice.
        guard let (current, updates) = await center.subscribe(op.id) else {
            throw SandboxError(.notFound, "no operation '\(op.id)'", fix: "GET /api/v1/operations lists the recent ones")
        }
        let messages = AsyncStream<ByteBuffer> { continuation in
            let task = Task {
                for event in current.events { continuation.yield(message(event.event, JSONLine.text(event))) }
                for await update in updates {
                    switch update {
                    case .event(let event): continuation.yield(message(event.event, JSONLine.text(event)))
                    case .finished(let finished):
                        // The last object `--json` prints, then the finished operation.
                        if let result = finished.result { continuation.yield(message("result", JSONLine.text(result))) }
                        if let error = finished.error { continuation.yield(message("error", JSONLine.text(error))) }
                        continuation.yield(message("end", JSONLine.text(finished)))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return stream(messages)
    }

    /// Every operation's updates: `update` with `{"operation","event"}`, `end` with a finished operation.
    static func everything(center: OperationCenter) -> Response {
        let messages = AsyncStream<ByteBuffer> { continuation in
            let task = Task {
                for await (id, update) in await center.subscribeAll() {
                    switch update {
                    case .event(let event):
                        continuation.yield(message("update", JSONLine.text(OperationUpdate(operation: id, event: event))))
                    case .finished(let op):
                        continuation.yield(message("end", JSONLine.text(op)))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return stream(messages)
    }

    /// A service's log: the tail, then each new line, as `line` messages `{"line": …}`.
    static func logs(_ follow: @escaping @Sendable (_ line: @escaping @Sendable (String) -> Void) async throws -> Void) -> Response {
        let messages = AsyncStream<ByteBuffer> { continuation in
            let task = Task {
                try? await follow { line in continuation.yield(message("line", JSONLine.text(["line": line]))) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return stream(messages)
    }

    /// Writes `messages` with a keep-alive comment every 15 s, until they end, the client leaves or serve stops.
    static func stream(_ messages: AsyncStream<ByteBuffer>) -> Response {
        Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (merged, input) = AsyncStream<ByteBuffer?>.makeStream()
            let pump = Task {
                for await m in messages { input.yield(m) }
                input.yield(nil)
            }
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(15))
                    input.yield(ByteBuffer(string: ": keep-alive\n\n"))
                }
            }
            defer { pump.cancel(); ticker.cancel() }
            try await withGracefulShutdownHandler {
                try await writer.write(ByteBuffer(string: ": sandbox serve\n\n"))
                for await item in merged {
                    guard let item else { break }
                    try await writer.write(item)
                }
            } onGracefulShutdown: {
                input.yield(nil)
            }
            try await writer.finish(nil)
        })
    }
}

/// One event of one operation, in the stream of every operation's.
struct OperationUpdate: Encodable {
    var operation: String
    var event: ProgressRecord
}
