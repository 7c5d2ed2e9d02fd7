import Foundation

/// One JSON object per line for each action started, finished or failed (see docs/json.md).
public struct JSONReporter: ProgressReporter {
    let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) {
        self.write = write
    }

    struct Event: Encodable {
        var event: String
        var target: String?
        var action: String?
        var cause: String?
        var seconds: Double?
        var code: String?
        var message: String?
    }

    public func report(_ event: ProgressEvent) {
        let e: Event
        switch event {
        case let .started(a): e = Event(event: "start", target: a.targetText, action: a.name, cause: a.cause)
        case let .finished(a, s): e = Event(event: "done", target: a.targetText, action: a.name, seconds: (s * 1000).rounded() / 1000)
        case let .failed(a, error): e = Event(event: "failed", target: a.targetText, action: a.name, code: error.code.rawValue, message: error.message)
        case let .message(text): e = Event(event: "message", message: text)
        case .output, .planned: return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(e), let text = String(data: data, encoding: .utf8) { write(text) }
    }
}
