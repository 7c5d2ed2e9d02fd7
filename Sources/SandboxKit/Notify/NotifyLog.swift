import Foundation

/// `.sandbox/notify.log`: one JSON line per delivery attempt, appended by deliverers and read by `sandbox doctor`.
/// Past 1 MiB it is moved to `notify.log.1` (replacing the one before), so it never grows without bound.
package struct NotifyLog: Sendable {
    package var file: URL

    package init(stateDirectory: URL) { file = stateDirectory.appendingPathComponent("notify.log") }

    static let limit = 1 << 20

    package enum Outcome: String, Sendable, Codable {
        /// The receiver answered 2xx.
        case delivered
        /// This attempt failed; another follows.
        case retrying
        /// This attempt failed and was the last: the event did not reach this URL.
        case failed
    }

    package struct Entry: Sendable, Equatable, Codable {
        package var at: String
        package var id: String
        package var event: String
        package var instance: String
        package var url: String
        package var attempt: Int
        package var attempts: Int
        /// The HTTP status, when the receiver answered.
        package var status: Int?
        /// Why the attempt failed: `connection refused`, `timed out after 5s`, `HTTP 500` …
        package var error: String?
        package var seconds: Double
        package var outcome: Outcome

        package init(at: String, id: String, event: String, instance: String, url: String, attempt: Int, attempts: Int,
                    status: Int?, error: String?, seconds: Double, outcome: Outcome) {
            self.at = at
            self.id = id
            self.event = event
            self.instance = instance
            self.url = url
            self.attempt = attempt
            self.attempts = attempts
            self.status = status
            self.error = error
            self.seconds = seconds
            self.outcome = outcome
        }
    }

    /// Appends one line with a single write (O_APPEND), so lines of deliverers running side by side never mix.
    package func append(_ entry: Entry) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entry) else { return }
        var st = stat()
        if stat(file.path, &st) == 0, Int(st.st_size) > Self.limit {
            rename(file.path, file.path + ".1")
        }
        let fd = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = data + Data("\n".utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Every entry, oldest first (the moved-away file's included); lines that do not parse are skipped.
    package func entries() -> [Entry] {
        let decoder = JSONDecoder()
        return [file.path + ".1", file.path].flatMap { path -> [Entry] in
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(Entry.self, from: Data($0)) }
        }
    }

    /// What the log says about one URL.
    package struct Summary: Sendable, Equatable {
        package var url: String
        /// Events that reached it, and events given up on.
        package var delivered: Int
        package var failed: Int
        /// Its last finished delivery (delivered or failed).
        package var last: Entry
    }

    /// One summary per URL with a finished delivery, in the order the URLs first appear.
    package static func summaries(_ entries: [Entry]) -> [Summary] {
        var order: [String] = []
        var by: [String: Summary] = [:]
        for entry in entries where entry.outcome != .retrying {
            if by[entry.url] == nil {
                order.append(entry.url)
                by[entry.url] = Summary(url: entry.url, delivered: 0, failed: 0, last: entry)
            }
            by[entry.url]?.last = entry
            if entry.outcome == .delivered { by[entry.url]?.delivered += 1 } else { by[entry.url]?.failed += 1 }
        }
        return order.compactMap { by[$0] }
    }
}
