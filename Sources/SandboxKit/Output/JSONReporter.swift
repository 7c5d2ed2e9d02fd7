import Foundation

/// One JSON object per line for each action started, finished or failed (see docs/json.md).
package struct JSONReporter: ProgressReporter {
    let write: @Sendable (String) -> Void

    package init(write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) {
        self.write = write
    }

    package func report(_ event: ProgressEvent) {
        if let record = ProgressRecord(event) { write(JSONLine.text(record)) }
    }
}

/// Hands each progress event to `record` as its typed object (what `serve` keeps for an operation's stream).
package struct RecordingReporter: ProgressReporter {
    let record: @Sendable (ProgressRecord) -> Void

    package init(_ record: @escaping @Sendable (ProgressRecord) -> Void) { self.record = record }

    package func report(_ event: ProgressEvent) {
        if let r = ProgressRecord(event) { record(r) }
    }
}
