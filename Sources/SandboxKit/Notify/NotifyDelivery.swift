import Foundation

/// How the deliverer posts: its one contact with the network, so tests can stand in for it.
package protocol WebhookTransport: Sendable {
    /// Posts `body` to `url`; the whole exchange (connecting included) gets at most `timeout` seconds.
    func post(_ url: URL, headers: [(String, String)], body: Data, timeout: Double) async -> WebhookResponse
}

/// What one attempt got back.
package enum WebhookResponse: Sendable, Equatable {
    /// The receiver answered with this HTTP status.
    case status(Int)
    /// No answer: the reason, as people read it (`connection refused`, `timed out after 5s`).
    case failed(String)
}

/// Posts one event to one URL: a bounded number of attempts, exponential backoff between them, one log entry each.
package struct NotifyDelivery: Sendable {
    package var transport: any WebhookTransport
    package var record: @Sendable (NotifyLog.Entry) -> Void
    package var sleep: @Sendable (Double) async -> Void
    package var now: @Sendable () -> Date

    package init(transport: any WebhookTransport, record: @escaping @Sendable (NotifyLog.Entry) -> Void,
                sleep: @escaping @Sendable (Double) async -> Void = { try? await Task.sleep(for: .seconds($0)) },
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.transport = transport
        self.record = record
        self.sleep = sleep
        self.now = now
    }

    /// Seconds to wait after failed attempt `n` (1-based): 0.5, 2, 8, 32 …
    package static func backoff(after attempt: Int) -> Double { 0.5 * pow(4, Double(attempt - 1)) }

    /// Whether another attempt may succeed where this one failed. A 4xx other than 408 and 429 is the receiver
    /// refusing this request (wrong path, bad signature), which the same request again will not change.
    package static func isWorthRetrying(_ response: WebhookResponse) -> Bool {
        switch response {
        case .failed: return true
        case let .status(code): return code >= 500 || code == 408 || code == 429 || code < 200
        }
    }

    /// Attempts until one succeeds, one is not worth retrying, or `event.attempts` are used up; true if delivered.
    @discardableResult
    package func deliver(_ event: NotifyEvent, to url: String) async -> Bool {
        guard let target = URL(string: url) else { return false }
        let body = Data(event.body.utf8)
        let attempts = max(1, event.attempts)
        for attempt in 1...attempts {
            let started = now()
            let response = await transport.post(target, headers: event.headers, body: body, timeout: event.timeout)
            let seconds = (now().timeIntervalSince(started) * 1000).rounded() / 1000
            let delivered: Bool, status: Int?, error: String?
            switch response {
            case let .status(code):
                delivered = (200..<300).contains(code)
                status = code
                error = delivered ? nil : "HTTP \(code)"
            case let .failed(reason):
                delivered = false
                status = nil
                error = reason
            }
            let last = delivered || attempt == attempts || !Self.isWorthRetrying(response)
            record(NotifyLog.Entry(at: NotifyEvent.timestamp(started), id: event.id, event: event.kind.rawValue, instance: event.instance,
                                   url: NotifyConfig.display(url), attempt: attempt, attempts: attempts, status: status, error: error,
                                   seconds: seconds, outcome: delivered ? .delivered : last ? .failed : .retrying))
            if last { return delivered }
            await sleep(Self.backoff(after: attempt))
        }
        return false
    }

    /// Delivers `events` (oldest first) to every URL they name: URLs side by side, so a dead receiver delays no
    /// other; each URL's events one after another, in order.
    package func deliver(_ events: [NotifyEvent]) async {
        var urls: [String] = []
        for event in events { for url in event.urls where !urls.contains(url) { urls.append(url) } }
        await withTaskGroup(of: Void.self) { group in
            for url in urls {
                group.addTask {
                    for event in events where event.urls.contains(url) { await self.deliver(event, to: url) }
                }
            }
        }
    }
}

/// The background process a command starts (`sandbox notify-deliver`): takes the spooled events, delivers them,
/// removes them, and goes on until the spool is empty.
package enum NotifyDeliverer {
    package static func run(stateDirectory: URL, transport: any WebhookTransport) async {
        let spool = NotifySpool(stateDirectory: stateDirectory)
        let log = NotifyLog(stateDirectory: stateDirectory)
        let delivery = NotifyDelivery(transport: transport, record: { log.append($0) })
        while true {
            let taken = spool.take()
            if taken.isEmpty { return }
            await delivery.deliver(taken.map(\.event))
            for t in taken { spool.remove(t) }
        }
    }
}
