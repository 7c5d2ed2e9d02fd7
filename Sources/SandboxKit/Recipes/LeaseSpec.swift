import Foundation
import Yams
import SandboxBase

/// How an engine lends copies of a seeded database (`service.leases` of an image recipe, docs/recipes.md "Leases"): the
/// SQL the lease pool sends its own server, and the commands it runs there. What the engine knows lives here; the pool
/// (when to make, hand over, reclaim and drop a copy) is the same for every engine.
///
/// Every copy, its login, and the template the copies are made from are named `lease_…`, so `list` can find what a
/// killed command left.
package struct LeaseSpec: Sendable, Equatable, Codable {
    /// A client kept open to the server: SQL on its standard input, each result value alone on a line of its standard
    /// output; it exits at the first error (the pool then starts another).
    package var session: Template
    /// SQL that prints `{marker}` alone on a line: the pool's sign that everything sent before it ran.
    package var marker: Template
    /// Run once for each state of the seeded data, before copies are made from it: SQL in the session, or a shell
    /// command in the container. What it prints is `{prepared}` in `copy`.
    package var prepare: Prepare
    /// SQL making `{copy}` from `{database}` (by way of `{template}` and `{prepared}`), owned by a new login `{login}`
    /// with password `{secret}`, who can reach no other copy.
    package var copy: Template
    /// SQL dropping `{copy}` and `{login}`, ending whatever sessions the login still has; fine when either is gone.
    package var drop: Template
    /// SQL printing, one per line, the name of every database and login on the server whose name begins with `lease_`.
    package var list: Template
    /// The URL of a copy as the host reaches it: `{host}`, `{port}`, `{user}` and `{password}` (the copy's login), `{database}`.
    package var url: Template
    /// How many ready copies of each lent database the pool keeps, unless the sandbox recipe says otherwise.
    package var pool: Int
    /// The lease server's start command, when it differs from the service's: its data is made again from the golden copy
    /// and the update steps whenever it is lost, so it may trade durability for speed (PostgreSQL's `fsync=off`).
    package var start: Template? = nil

    package enum Prepare: Sendable, Equatable, Codable {
        case sql(Template)
        case run(Template)
    }

    /// What the SQL templates may name.
    static let copyReferences = ["copy", "login", "secret", "database", "template", "prepared"]
    static let dropReferences = ["copy", "login"]
    static let prepareReferences = ["database", "template"]
}

/// A service's `leases:` in a sandbox recipe: which of its databases tests may borrow a copy of, and how.
package struct LeaseSettings: Sendable, Equatable, Codable {
    /// The databases lent, in the recipe's order (the first is the default); by default those its setup creates.
    package var databases: [String]
    /// Ready copies kept per database.
    package var pool: Int
    /// Seconds a lease lasts without a renewal.
    package var ttl: Int
    /// Copies lent at once, every database together: a test suite that never gives its copies back (or a runaway client
    /// of `serve`) is refused once it holds this many, instead of filling the disk for up to `maxTTL`.
    package var maxLent: Int = defaultMaxLent

    package static let defaultTTL = 600
    package static let defaultMaxLent = 100
    package static let maxMaxLent = 10_000
    package static let maxPool = 64
    package static let maxTTL = 7 * 86_400
}

extension LeaseSpec {
    static let keys = ["session", "marker", "prepare", "copy", "drop", "list", "url", "pool", "start"]

    static func parse(_ reader: YAMLReader, _ node: Node) -> LeaseSpec? {
        guard let map = reader.mapping(node, what: "'leases'", allowed: keys, required: ["session", "marker", "prepare", "copy", "drop", "list", "url"])
        else { return nil }
        let before = reader.diagnostics.count
        let session = map["session"].flatMap { ImageRecipe.template(reader, $0, what: "'session'", allowed: ImageReferences.command) }
        func sql(_ key: String, _ allowed: [String]) -> Template? {
            map[key].flatMap { ImageRecipe.template(reader, $0, what: "'\(key)'", allowed: allowed) }
        }
        let marker = sql("marker", ["marker"])
        let copy = sql("copy", copyReferences)
        let drop = sql("drop", dropReferences)
        let list = sql("list", [])
        let url = map["url"].flatMap { ImageRecipe.template(reader, $0, what: "'url'", allowed: ImageReferences.url + ["database"], filters: false) }
        var prepare: Prepare?
        if let node = map["prepare"], let p = reader.mapping(node, what: "'prepare'", allowed: ["sql", "run"]) {
            if let n = p["sql"], let t = ImageRecipe.template(reader, n, what: "'prepare'", allowed: prepareReferences) { prepare = .sql(t) }
            if let n = p["run"], let t = ImageRecipe.template(reader, n, what: "'prepare'", allowed: ImageReferences.command + prepareReferences) {
                prepare = .run(t)
            }
            if (p["sql"] == nil) == (p["run"] == nil) {
                reader.error(at: node, "'prepare' is either {sql: SQL the session runs} or {run: a shell command in the container}")
                prepare = nil
            }
        }
        let start = map["start"].flatMap { ImageRecipe.template(reader, $0, what: "'start'", allowed: ImageReferences.command) }
        if let start, let node = map["start"], start.references.contains("password") {
            reader.error(at: node, RecipeMessages.passwordInContainerConfig("start"))
        }
        var pool = 4
        if let node = map["pool"], let n = reader.int(node, what: "'pool'", range: 1...LeaseSettings.maxPool) { pool = n }
        guard reader.diagnostics.count == before, let session, let marker, let prepare, let copy, let drop, let list, let url else { return nil }
        return LeaseSpec(session: session, marker: marker, prepare: prepare, copy: copy, drop: drop, list: list, url: url, pool: pool, start: start)
    }
}

extension LeaseSettings {
    static let keys = ["databases", "pool", "ttl", "max-lent"]

    /// `leases: {databases: [app], pool: 4, ttl: 10m, max-lent: 100}`, every key optional. The databases are checked against the
    /// service once it is resolved; nil lists mean "those the setup creates".
    static func parse(_ reader: YAMLReader, _ node: Node) -> (databases: [String]?, pool: Int?, ttl: Int?, maxLent: Int?)? {
        if case .scalar = node, reader.scalarString(node) == nil { return (nil, nil, nil, nil) }
        guard let map = reader.mapping(node, what: "'leases'", allowed: keys) else { return nil }
        let before = reader.diagnostics.count
        var databases: [String]?
        if let node = map["databases"], let items = reader.sequence(node, what: "'databases'") {
            var names: [String] = []
            for item in items {
                guard let name = reader.nonEmptyString(item, what: "a database in 'databases'") else { continue }
                if !ImageRecipe.Param.isName(name) || name.hasPrefix("lease_") {
                    reader.error(at: item, "'\(name.prefix(80))' cannot be lent: \(RecipeMessages.nameRule), and not starting with 'lease_'")
                } else if names.contains(name) {
                    reader.error(at: item, "'\(name)' is listed twice in 'databases'")
                } else {
                    names.append(name)
                }
            }
            if items.isEmpty { reader.error(at: node, "'databases' is empty; leave it out to lend the databases the setup creates") }
            databases = names
        }
        let pool = map["pool"].flatMap { reader.int($0, what: "'pool'", range: 1...maxPool) }
        var ttl: Int?
        if let node = map["ttl"], let text = reader.string(node, what: "'ttl'") {
            if let seconds = Durations.seconds(text), seconds >= 10, seconds <= maxTTL { ttl = seconds } else {
                reader.error(at: node, "'ttl' is how long a lease lasts unless renewed, from 10s to 7d, like 10m or 1h; got '\(text.prefix(40))'")
            }
        }
        let maxLent = map["max-lent"].flatMap { reader.int($0, what: "'max-lent'", range: 1...maxMaxLent) }
        return reader.diagnostics.count == before ? (databases, pool, ttl, maxLent) : nil
    }
}
