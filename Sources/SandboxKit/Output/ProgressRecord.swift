import Foundation

/// One progress event as `--json` prints it and an operation's event stream carries it.
package struct ProgressRecord: Codable, Sendable, Equatable {
    package var event: String
    /// The action's number in the plan, and everything it is carried out with (as `plan --json` lists them).
    package var id: Int?
    package var target: String?
    package var action: String?
    package var arguments: String?
    package var cause: String?
    package var seconds: Double?
    package var code: String?
    package var message: String?

    /// The record of `event`; nil for the events only a terminal shows (output lines, the plan).
    package init?(_ event: ProgressEvent) {
        switch event {
        case let .started(a):
            self.init(event: "start", id: a.id, target: a.targetText, action: a.name, arguments: a.arguments, cause: a.cause)
        case let .finished(a, s):
            self.init(event: "done", id: a.id, target: a.targetText, action: a.name, arguments: a.arguments, seconds: (s * 1000).rounded() / 1000)
        case let .failed(a, error):
            self.init(event: "failed", id: a.id, target: a.targetText, action: a.name, arguments: a.arguments, code: error.code.rawValue,
                      message: error.message)
        case let .message(text): self.init(event: "message", message: text)
        case .output, .planned: return nil
        }
    }

    package init(event: String, id: Int? = nil, target: String? = nil, action: String? = nil, arguments: String? = nil, cause: String? = nil,
                 seconds: Double? = nil, code: String? = nil, message: String? = nil) {
        self.event = event
        self.id = id
        self.target = target
        self.action = action
        self.arguments = arguments
        self.cause = cause
        self.seconds = seconds
        self.code = code
        self.message = message
    }
}

/// The one JSON encoding of the core's objects: sorted keys, unescaped slashes, ISO 8601 dates, one line.
package enum JSONLine {
    package static func data<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Every value the core encodes is made of strings, numbers, dates and containers of them: this cannot fail.
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    package static func text<T: Encodable>(_ value: T) -> String { String(decoding: data(value), as: UTF8.self) }
}
