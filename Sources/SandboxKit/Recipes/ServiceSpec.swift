import Foundation
import Yams

/// The running side of an image recipe.
package struct ServiceSpec: Sendable, Equatable, Codable {
    /// The OS user the service runs as, inside the container.
    package var runAs: String
    /// Where the data dir is mounted; nil for a service that keeps no data (a cache, the project's application):
    /// it has no golden copy, no setup or update steps, and snapshots and resets leave it alone.
    package var data: String?
    package var port: Int
    /// Engine and major version stamped into every data dir this image makes ("" for a service without data).
    package var engine: String
    package var version: String
    /// The login user; its password is generated per data dir.
    package var user: String?
    package var env: [String: String]
    package var initSteps: [Template]
    package var start: Template
    package var ready: Ready
    package var stopSignal: String
    package var stopTimeout: Int
    /// Seconds `ready` may take to pass after the container starts.
    package var readyTimeout: Int
    /// Connection URL as seen from the host: `{host}`, `{port}` (the published one), `{user}`, `{password}`.
    package var url: Template?
    /// The forms people paste into their tools (a JDBC URL, a driver's DSN, the settings one by one), as seen from
    /// the host, in the order the page shows them; the same references as `url`.
    package var connect: [Connection] = []
    package var client: Client?
    /// How data an older version of this engine made becomes this version's; nil: such data is refused.
    package var upgrade: Upgrade?

    /// How SQL filters quote in this service's commands (`service.sql`); nil for a service that speaks no SQL.
    package var sql: SQLQuoting?
    /// How the engine lends copies of a seeded database (`service.leases`); nil: it lends none.
    package var leases: LeaseSpec?

    /// How readiness is checked: a command inside the container (the entry script runs it in a loop and marks the
    /// service ready), or an HTTP path on the service's port that must answer 2xx (asked from the host).
    package enum Ready: Sendable, Equatable, Codable {
        case command(Template)
        case http(path: String)

        package var command: Template? { if case let .command(t) = self { return t } else { return nil } }

        /// As the container's configuration records it.
        package var raw: String {
            switch self {
            case let .command(t): return t.raw
            case let .http(path): return "http \(path)"
            }
        }
    }

    /// The folder the readiness marker and the service's environment file live in, inside the container: the data
    /// dir, or for a service without one the instance's run folder for it.
    package var stateFolder: String { data ?? Self.runFolder }
    package static let runFolder = "/run/sandbox"

    package struct Connection: Sendable, Equatable, Codable {
        /// What it is for, as the page labels it: `JDBC — Java, Kotlin, DBeaver`.
        package var name: String
        package var value: Template
    }

    package struct Client: Sendable, Equatable, Codable {
        package var name: String
        package var run: Template
    }

    /// The engine's supported route from an older major version to this one. `sandbox up` runs it when a service's
    /// image changes to a newer version of the same engine, on a copy of the data, and switches the result in.
    package struct Upgrade: Sendable, Equatable, Codable {
        package enum Method: String, Sendable, Codable, CaseIterable {
            /// The old version's server (its image recipe found by engine and version) runs on a copy of the old
            /// data and `dump` writes it all to standard output; this version's server, on a fresh data dir made by
            /// `init`, reads it on standard input with `restore`.
            case dump
            /// This version's server starts on a copy of the old data, then `run` upgrades it in place.
            case inPlace = "in-place"
        }
        package var method: Method
        package var dump: Template?
        package var restore: Template?
        package var run: Template?
    }
}

extension ImageRecipe {
    static let serviceKeys = ["run-as", "data", "port", "engine", "version", "user", "env", "init", "start", "ready",
                              "stop-signal", "stop-timeout", "ready-timeout", "url", "connect", "client", "upgrade", "sql", "leases"]

    static func parseService(_ reader: YAMLReader, _ node: Node) -> ServiceSpec? {
        guard let map = reader.mapping(node, what: "'service'", allowed: serviceKeys,
                                       required: ["run-as", "port", "start", "ready"]) else { return nil }
        let before = reader.diagnostics.count
        let cmd = ImageReferences.command
        let runAs = map["run-as"].flatMap { reader.nonEmptyString($0, what: "'run-as'") }
        if let node = map["run-as"], runAs == "root" {
            reader.error(at: node, "services must not run as root; name the service's own user, like 'postgres'")
        }
        var data: String? = "/data"
        if let node = map["data"], let d = reader.nonEmptyString(node, what: "'data'") {
            if d == "none" { data = nil } else if d.hasPrefix("/") && d != "/" && !d.hasPrefix(Self.runFolderPrefix) { data = d } else {
                reader.error(at: node, "'data' must be an absolute path other than '/' and outside /run/sandbox, or 'none' for a service that keeps no data")
            }
        }
        let port = map["port"].flatMap { reader.int($0, what: "'port'", range: 1...65535) }
        var engine = map["engine"].flatMap { reader.nonEmptyString($0, what: "'engine'") }
        var version = map["version"].flatMap { reader.nonEmptyString($0, what: "'version'") }
        if data == nil {
            engine = engine ?? ""
            version = version ?? ""
        } else {
            for key in ["engine", "version"] where map[key] == nil {
                reader.error(at: node, "a service with data needs '\(key)' (stamped into its data dir); "
                                 + "say 'data: none' for a service that keeps no data")
            }
        }
        let user = map["user"].flatMap { reader.nonEmptyString($0, what: "'user'") }
        var env: [String: String] = [:]
        if let node = map["env"], let pairs = reader.stringMap(node, what: "'env'") {
            for p in pairs { env[p.key] = p.value }
        }
        // Every command, with its node: filters need declared SQL quoting, and start and ready must not hold the password.
        var commands: [(key: String, node: Node, template: Template)] = []
        if let node = map["init"], let items = reader.sequence(node, what: "'init'") {
            for item in items {
                if let t = template(reader, item, what: "an 'init' command", allowed: cmd) { commands.append(("init", item, t)) }
            }
        }
        let initSteps = commands.map(\.template)
        if data == nil, let node = map.keyNode("init") { reader.error(at: node, "'init' makes a fresh data dir; a service with 'data: none' has none") }
        let start = map["start"].flatMap { template(reader, $0, what: "'start'", allowed: cmd) }
        let ready: ServiceSpec.Ready? = map["ready"].flatMap { parseReady(reader, $0) }
        if let start, let node = map["start"] { commands.append(("start", node, start)) }
        if case let .command(t)? = ready, let node = map["ready"] { commands.append(("ready", node, t)) }
        var stopSignal = "SIGTERM"
        if let node = map["stop-signal"], let s = reader.string(node, what: "'stop-signal'") {
            let known = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGKILL"]
            if known.contains(s) { stopSignal = s } else {
                reader.error(at: node, "'stop-signal' must be one of \(known.joined(separator: ", ")), not '\(s)'\(didYouMean(s, among: known))")
            }
        }
        var stopTimeout = 30
        if let node = map["stop-timeout"], let t = reader.int(node, what: "'stop-timeout'", range: 1...3600) { stopTimeout = t }
        var readyTimeout = 120
        if let node = map["ready-timeout"], let t = reader.int(node, what: "'ready-timeout'", range: 1...3600) { readyTimeout = t }
        let url = map["url"].flatMap { template(reader, $0, what: "'url'", allowed: ImageReferences.url, filters: false) }
        let connect = map["connect"].map { parseConnect(reader, $0) } ?? []
        var client: ServiceSpec.Client?
        if let node = map["client"], let c = reader.mapping(node, what: "'client'", allowed: ["name", "run"], required: ["name", "run"]) {
            let name = c["name"].flatMap { reader.nonEmptyString($0, what: "'name'") }
            if let n = name, let nameNode = c["name"], !isComponentName(n) {
                reader.error(at: nameNode, "a client's 'name' becomes a command, like 'psql'; got '\(n)'")
            }
            let run = c["run"].flatMap { template(reader, $0, what: "the client's 'run'", allowed: cmd) }
            if let name, let run { client = .init(name: name, run: run) }
            if let run, let node = c["run"] { commands.append(("client", node, run)) }
        }
        var upgrade: ServiceSpec.Upgrade?
        if let node = map["upgrade"] {
            upgrade = parseUpgrade(reader, node)
            for (key, command) in [("dump", upgrade?.dump), ("restore", upgrade?.restore), ("run", upgrade?.run)] {
                if let command, let node = node.mapping?[Node(key)] { commands.append(("upgrade " + key, node, command)) }
            }
        }
        // start and ready end up in the container's configuration (its command, SANDBOX_READY in its environment).
        for (key, node, t) in commands where key == "start" || key == "ready" {
            for reference in t.referenceParts where reference.name == "password" {
                reader.error(at: templateLocation(reader, node, offset: reference.offset), RecipeMessages.passwordInContainerConfig(key))
            }
        }
        let sql = map["sql"].flatMap { parseSQL(reader, $0) }
        let leases = map["leases"].flatMap { LeaseSpec.parse(reader, $0) }
        if let node = map.keyNode("leases") {
            if data == nil { reader.error(at: node, "'leases' lends copies of databases; a service with 'data: none' has none") }
            if map["sql"] == nil { reader.error(at: node, "'leases' sends SQL with quoted names and passwords: declare how under 'service.sql'") }
        }
        if let engine, map["sql"] == nil {
            for (_, node, t) in commands {
                if let (reference, location) = firstFilter(reader, node, t) { reader.error(at: location, RecipeMessages.noQuoting(reference, engine: engine)) }
            }
        }
        guard reader.diagnostics.count == before, let runAs, let port, let engine, let version, let start, let ready else { return nil }
        for t in [start] + [ready.command].compactMap({ $0 }) + initSteps where t.references.contains("password") || t.references.contains("user") {
            if user == nil, let node = map["start"] {
                reader.error(at: node, "commands use {user} or {password}, but 'service' has no 'user' to log in as")
                return nil
            }
        }
        return ServiceSpec(runAs: runAs, data: data, port: port, engine: engine, version: version, user: user, env: env,
                           initSteps: initSteps, start: start, ready: ready, stopSignal: stopSignal, stopTimeout: stopTimeout, readyTimeout: readyTimeout,
                           url: url, connect: connect, client: client, upgrade: upgrade, sql: sql, leases: leases)
    }

    static let runFolderPrefix = ServiceSpec.runFolder

    /// `ready: COMMAND`, or `ready: {http: /path}`: nil with a diagnostic when it is neither.
    static func parseReady(_ reader: YAMLReader, _ node: Node) -> ServiceSpec.Ready? {
        guard case .mapping = node else { return template(reader, node, what: "'ready'", allowed: ImageReferences.command).map { .command($0) } }
        guard let map = reader.mapping(node, what: "'ready'", allowed: ["http"], required: ["http"]),
              let pathNode = map["http"], let path = reader.nonEmptyString(pathNode, what: "'http'") else { return nil }
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0.isNewline || !$0.isASCII }) else {
            reader.error(at: pathNode, "'http' is the path the service answers 2xx on once ready, like /health; got '\(path)'")
            return nil
        }
        return .http(path: path)
    }

    static func parseConnect(_ reader: YAMLReader, _ node: Node) -> [ServiceSpec.Connection] {
        guard let items = reader.sequence(node, what: "'connect'") else { return [] }
        var out: [ServiceSpec.Connection] = []
        for item in items {
            guard let map = reader.mapping(item, what: "an entry of 'connect'", allowed: ["name", "value"], required: ["name", "value"]),
                  let nameNode = map["name"], let valueNode = map["value"],
                  let name = reader.nonEmptyString(nameNode, what: "'name'") else { continue }
            if out.contains(where: { $0.name == name }) {
                reader.error(at: nameNode, "'connect' names '\(name)' twice; each form has its own name")
                continue
            }
            if let value = template(reader, valueNode, what: "a 'connect' value", allowed: ImageReferences.url, filters: false) {
                out.append(.init(name: name, value: value))
            }
        }
        return out
    }

    static func parseUpgrade(_ reader: YAMLReader, _ node: Node) -> ServiceSpec.Upgrade? {
        guard let map = reader.mapping(node, what: "'upgrade'", allowed: ["method", "dump", "restore", "run"], required: ["method"]) else { return nil }
        let methods = ServiceSpec.Upgrade.Method.allCases.map(\.rawValue)
        guard let methodNode = map["method"], let text = reader.string(methodNode, what: "'method'") else { return nil }
        guard let method = ServiceSpec.Upgrade.Method(rawValue: text) else {
            reader.error(at: methodNode, "'method' must be one of \(methods.joined(separator: ", ")), not '\(text)'\(didYouMean(text, among: methods))")
            return nil
        }
        var commands: [String: Template] = [:]
        for key in ["dump", "restore", "run"] {
            if let n = map[key], let t = template(reader, n, what: "upgrade '\(key)'", allowed: ImageReferences.command) { commands[key] = t }
        }
        let needed = method == .dump ? ["dump", "restore"] : ["run"]
        let unused = method == .dump ? ["run"] : ["dump", "restore"]
        for key in needed where map[key] == nil {
            let why = method == .dump ? "'dump' writes the old data to standard output, 'restore' reads it"
                : "'run' upgrades the data in place once this version's server runs on it"
            reader.error(at: node, "upgrade method '\(text)' needs '\(key)': \(why)")
        }
        for key in unused {
            if let n = map.keyNode(key) { reader.error(at: n, "'\(key)' belongs to upgrade method '\(method == .dump ? "in-place" : "dump")', not '\(text)'") }
        }
        guard needed.allSatisfy({ commands[$0] != nil }) else { return nil }
        return .init(method: method, dump: commands["dump"], restore: commands["restore"], run: commands["run"])
    }
}
