import Foundation
import Synchronization
import SandboxBase

/// What `sandbox serve` was asked to do: where to listen, which checkouts, how to prove who is calling.
package struct ServeConfiguration: Sendable {
    package var host: String
    package var port: Int
    package var checkouts: [ServedCheckout]
    package var token: String
    package var tls: TLSFiles?
    /// The `sandbox` binary the server runs for each operation (itself).
    package var executable: String
    /// How long a stop waits for running operations before it cancels them.
    package var stopTimeout: Duration
    /// `SANDBOX_HOOK_SECRET`, which push events must be signed with.
    package var hookSecret: String?
    /// `--poll`: how often to check each checkout's upstream branch.
    package var poll: Duration?
    /// `--previews` and its limits: a sandbox per matching branch.
    package var previews = PreviewSettings()
    /// `--gc-every`: how often `gc` runs on each served checkout; nil: never.
    package var gcEvery: Duration? = nil

    package struct TLSFiles: Sendable {
        package var certificate: String
        package var key: String
        package init(certificate: String, key: String) { self.certificate = certificate; self.key = key }
    }

    package init(host: String, port: Int, checkouts: [ServedCheckout], token: String, tls: TLSFiles?, executable: String,
                stopTimeout: Duration = .seconds(300), hookSecret: String? = nil, poll: Duration? = nil) {
        self.host = host; self.port = port; self.checkouts = checkouts; self.token = token; self.tls = tls
        self.executable = executable; self.stopTimeout = stopTimeout; self.hookSecret = hookSecret; self.poll = poll
    }

    /// `60s`, `5m`, `1h` or plain seconds; at least 5 seconds.
    package static func parseInterval(_ text: String) throws(SandboxError) -> Duration {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text), unit = 1
        if let last = text.last, let u = units[last] { number = text.dropLast(); unit = u }
        guard let value = Int(number), value * unit >= 5, value * unit <= 86_400 else {
            throw SandboxError(.badRequest, "'\(text)' is not an interval to poll on", fix: "use seconds, minutes or hours from 5s to 24h, like 60s or 5m")
        }
        return .seconds(value * unit)
    }

    /// The address people open: `http(s)://host:port`.
    package var origin: String {
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let bracketed = shownHost.contains(":") ? "[\(shownHost)]" : shownHost
        return "\(tls == nil ? "http" : "https")://\(bracketed):\(port)"
    }

    /// `ADDR:PORT`, `[v6]:PORT` or `:PORT` (loopback). Throws a message naming the fix.
    package static func parseListen(_ text: String) throws(SandboxError) -> (host: String, port: Int) {
        var host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw listenError(text) }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw listenError(text)
        }
        guard let port = Int(portText), (0...65535).contains(port) else { throw listenError(text) }
        return (host.isEmpty ? "127.0.0.1" : String(host), port)
    }

    static func listenError(_ text: String) -> SandboxError {
        SandboxError(.badRequest, "'\(text)' is not an address to listen on", fix: "use ADDR:PORT, like 127.0.0.1:7420 or [::1]:7420")
    }

    /// True for addresses only this machine can reach.
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// One checkout `serve` serves, with the short id the API names it by.
package struct ServedCheckout: Sendable, Equatable {
    package var id: String
    package var root: URL

    package init(id: String, root: URL) { self.id = id; self.root = root }

    /// Ids from folder names, made unique (`app`, `app-2`) and safe in a URL.
    package static func identify(_ roots: [URL]) -> [ServedCheckout] {
        var used: Set<String> = []
        return roots.map { root in
            let base = String(root.lastPathComponent.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
            var id = base.isEmpty ? "checkout" : base, n = 2
            while used.contains(id) { id = "\(base)-\(n)"; n += 1 }
            used.insert(id)
            return ServedCheckout(id: id, root: root)
        }
    }
}

/// The server's own origin, known for sure once it listens (`--listen …:0` picks the port then).
package final class ServerAddress: Sendable {
    private let value: Mutex<String>
    package init(_ origin: String) { value = Mutex(origin) }
    package var origin: String { value.withLock { $0 } }
    func set(_ origin: String) { value.withLock { $0 = origin } }
}
