import Foundation
import Yams
import SandboxRecipes

/// Where events about instances go, and how hard delivery tries (docs/notifications.md): the URLs of
/// `SANDBOX_NOTIFY_URL` (comma-separated) and of a per-machine file, `SANDBOX_NOTIFY_SECRET` over the file's secret.
package struct NotifyConfig: Sendable, Equatable {
    package var urls: [String] = []
    package var secret: String?
    /// Seconds one attempt may take, connecting included.
    package var timeout: Double = NotifyConfig.defaultTimeout
    /// Attempts per event and URL, the first included.
    package var attempts: Int = NotifyConfig.defaultAttempts
    /// The per-machine file, whether or not it exists.
    package var file: String?
    /// Mistakes in the file or the variables, as `path:line:column: message`. Commands skip what is wrong and go on;
    /// `sandbox doctor` shows them.
    package var problems: [String] = []

    package static let defaultTimeout = 5.0
    package static let defaultAttempts = 4
    static let keys = ["urls", "secret", "timeout", "attempts"]

    package init(urls: [String] = [], secret: String? = nil, timeout: Double = NotifyConfig.defaultTimeout,
                attempts: Int = NotifyConfig.defaultAttempts, file: String? = nil, problems: [String] = []) {
        self.urls = urls
        self.secret = secret
        self.timeout = timeout
        self.attempts = attempts
        self.file = file
        self.problems = problems
    }

    /// Whether any event is sent at all: with no URL, commands spool nothing and start nothing.
    package var isEnabled: Bool { !urls.isEmpty }

    /// `$SANDBOX_NOTIFY_CONFIG`, else `$XDG_CONFIG_HOME/sandbox/notify.yml`, else `~/.config/sandbox/notify.yml`.
    package static func filePath(environment: [String: String]) -> String? {
        if let path = environment["SANDBOX_NOTIFY_CONFIG"], !path.isEmpty { return path }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/sandbox/notify.yml" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/sandbox/notify.yml" }
        return nil
    }

    /// The settings in effect for a process with `environment`. Costs one failed `open` when nothing is configured.
    package static func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> NotifyConfig {
        var config = NotifyConfig()
        config.file = filePath(environment: environment)
        if let path = config.file {
            if let data = FileManager.default.contents(atPath: path) {
                config.read(String(decoding: data, as: UTF8.self), path: path)
                if config.secret != nil, let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
                   mode & 0o077 != 0 {
                    config.problems.append("\(path): holds the secret but others may read it (chmod 600 \(path))")
                }
            } else if environment["SANDBOX_NOTIFY_CONFIG"].map({ !$0.isEmpty }) == true {
                config.problems.append("\(path): SANDBOX_NOTIFY_CONFIG names a file that does not exist or cannot be read")
            }
        }
        let fromEnvironment = (environment["SANDBOX_NOTIFY_URL"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var urls: [String] = []
        for url in fromEnvironment {
            if let problem = Self.problem(url) { config.problems.append("SANDBOX_NOTIFY_URL: \(problem)") } else { urls.append(url) }
        }
        for url in config.urls where !urls.contains(url) { urls.append(url) }
        config.urls = urls
        if let secret = environment["SANDBOX_NOTIFY_SECRET"], !secret.isEmpty { config.secret = secret }
        return config
    }

    /// Reads the file's keys into `self`; what is wrong is noted in `problems` and left out.
    mutating func read(_ text: String, path: String) {
        // A file of comments only (or nothing) sets nothing, and is no mistake.
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        if lines.allSatisfy({ $0.isEmpty || $0.hasPrefix("#") }) { return }
        let reader = YAMLReader(path: path, source: text)
        defer { problems += reader.diagnostics.map { "\($0.location.path):\($0.location.line):\($0.location.column): \($0.message)" } }
        guard let root = reader.root(), let entries = reader.mapping(root, what: "the notification settings", allowed: Self.keys) else { return }
        if let node = entries["urls"] {
            let items: [Node]
            if case .sequence = node { items = reader.sequence(node, what: "'urls'") ?? [] } else { items = [node] }
            for item in items {
                guard let url = reader.string(item, what: "each URL") else { continue }
                if let problem = Self.problem(url) { reader.error(at: item, problem) } else if !urls.contains(url) { urls.append(url) }
            }
        }
        if let node = entries["secret"], let secret = reader.nonEmptyString(node, what: "'secret'") { self.secret = secret }
        if let node = entries["timeout"] {
            if let seconds = reader.scalarString(node).flatMap(Double.init), (0.1...300).contains(seconds) {
                timeout = seconds
            } else {
                reader.error(at: node, "'timeout' must be a number of seconds between 0.1 and 300, not \(reader.describe(node))")
            }
        }
        if let node = entries["attempts"], let attempts = reader.int(node, what: "'attempts'", range: 1...10) { self.attempts = attempts }
    }

    /// A URL as logged and shown: a password in it reads `***`.
    package static func display(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }

    /// Why `url` cannot be posted to, or nil when it can.
    static func problem(_ url: String) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parts.host, !host.isEmpty else {
            return "'\(url)' is not an http:// or https:// URL"
        }
        return nil
    }
}
