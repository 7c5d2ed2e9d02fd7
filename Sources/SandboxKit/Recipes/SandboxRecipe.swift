import Foundation
import Yams

/// Which services a sandbox has, how each is set up and updated, and what it exports.
package struct SandboxRecipe: Sendable, Equatable {
    package var name: String
    package var owner: String
    package var path: String
    package var source: String
    package var services: [Service]
    package var env: [EnvEntry]
    /// False when the file had errors: the recipe holds only the parts that read cleanly, which are still
    /// resolved by `sandbox check` so every error in a file is reported at once, but it is never brought up.
    package var complete = true

    package struct Service: Sendable, Equatable {
        package var name: String
        package var image: String
        package var imageLocation: SourceLocation
        /// A fixed host port; nil picks a free one and keeps it.
        package var hostPort: Int?
        /// The host address ports are published on.
        package var publish: String
        package var setup: [Step]
        package var update: [Step]
        package var location: SourceLocation
        /// `depends-on`: services that must be ready (and updated) before this one starts, besides those its `env` names.
        package var dependsOn: [Dependency] = []
        /// The service's own environment: templates rendered as the instance's network sees the services (`{db.host}` is
        /// `db`, `{db.port}` its container port), handed to the service in a file, never in its container's configuration.
        package var env: [EnvEntry] = []
        /// A folder of the checkout mounted into the container for an instance brought up with `--live`.
        package var live: Live?
        /// `leases:`: tests may borrow copies of its seeded databases (docs/testing.md).
        package var leases: Leases?
    }

    /// `leases: {databases: [app], pool: 4, ttl: 10m, max-lent: 100}` as written; what is left out comes from the image recipe and defaults.
    package struct Leases: Sendable, Equatable {
        package var databases: [String]?
        package var pool: Int?
        package var ttl: Int?
        package var maxLent: Int? = nil
        package var location: SourceLocation
    }

    package struct Dependency: Sendable, Equatable {
        package var name: String
        package var location: SourceLocation
    }

    /// `live: {path: app, mount: /app, writable: false}`: the source folder a developer edits, seen by the container.
    package struct Live: Sendable, Equatable, Codable {
        /// Relative to the checkout.
        package var path: String
        package var mount: String
        package var writable: Bool
    }

    package struct Step: Sendable, Equatable {
        package var action: String
        package var location: SourceLocation
        package var params: [Param]
        /// For the built-in `run` step: the command.
        package var command: Template?

        package struct Param: Sendable, Equatable {
            package var name: String
            package var value: Template
            /// Where the parameter's name stands.
            package var location: SourceLocation
            /// Where its value stands: a value of the wrong type is reported there.
            package var valueLocation: SourceLocation
        }
    }

    package struct EnvEntry: Sendable, Equatable {
        package var name: String
        package var value: Template
        package var location: SourceLocation
    }
}

extension SandboxRecipe {
    static let topKeys = ["sandbox", "owner", "services", "env"]
    static let serviceKeys = ["image", "port", "publish", "setup", "update", "depends-on", "env", "live", "leases"]
    /// What `{service.X}` may name.
    static let serviceFields = ["host", "port", "user", "password", "url"]

    static func parse(_ reader: YAMLReader) -> SandboxRecipe? {
        guard let root = reader.root() else { return nil }
        guard let top = reader.mapping(root, what: "a sandbox recipe", allowed: topKeys, required: ["sandbox", "owner", "services"]) else { return nil }
        let before = reader.diagnostics.count
        var recipe = SandboxRecipe(name: "", owner: "", path: reader.path, source: reader.source, services: [], env: [])
        if let node = top["sandbox"], let name = reader.nonEmptyString(node, what: "'sandbox'") {
            if ImageRecipe.isComponentName(name) { recipe.name = name } else {
                reader.error(at: node, "'sandbox' must be lower-case letters, digits, '.', '-' or '_', like 'bookmarker'; got '\(name)'")
            }
        }
        if let node = top["owner"], let owner = reader.nonEmptyString(node, what: "'owner'") {
            if ImageRecipe.isComponentName(owner) { recipe.owner = owner } else {
                reader.error(at: node, "'owner' becomes the first part of image tags and must be lower-case, like 'acme'; got '\(owner)'")
            }
        }
        var serviceNames: [String] = []
        if let node = top["services"], let pairs = reader.namedMapping(node, what: "'services'") {
            if pairs.isEmpty { reader.error(at: node, "'services' is empty; a sandbox needs at least one service") }
            serviceNames = pairs.map(\.key)
            for (name, keyNode, value) in pairs {
                guard isServiceName(name) else {
                    reader.error(at: keyNode, "service names are lower-case letters, digits and '-', starting with a letter, like 'db'; got '\(name)'")
                    continue
                }
                if let service = parseService(reader, name: name, keyNode: keyNode, value, services: serviceNames) {
                    recipe.services.append(service)
                }
            }
        }
        if let node = top["env"] { recipe.env = parseEnv(reader, node, what: "'env'", services: serviceNames) }
        _ = before
        recipe.complete = reader.diagnostics.isEmpty
        return recipe
    }

    static func isServiceName(_ name: String) -> Bool {
        guard let first = name.first, first.isLowercase, first.isASCII else { return false }
        return name.count <= 30 && name.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }
    }

    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
    }

    static func parseService(_ reader: YAMLReader, name: String, keyNode: Node, _ node: Node, services: [String]) -> Service? {
        guard let map = reader.mapping(node, what: "service '\(name)'", allowed: serviceKeys, required: ["image"]) else { return nil }
        let before = reader.diagnostics.count
        let image = map["image"].flatMap { reader.nonEmptyString($0, what: "'image'") }
        var hostPort: Int?
        if let node = map["port"] {
            if reader.scalarString(node) != "auto" { hostPort = reader.int(node, what: "'port'", range: 1...65535) }
        }
        var publish = "127.0.0.1"
        if let node = map["publish"], let p = reader.string(node, what: "'publish'") {
            if isIPv4(p) { publish = p } else {
                reader.error(at: node, "'publish' must be an IPv4 address such as 127.0.0.1 (the default) or 0.0.0.0; got '\(p)'")
            }
        }
        let setup = map["setup"].map { parseSteps(reader, $0, what: "'setup'", services: services) } ?? []
        let update = map["update"].map { parseSteps(reader, $0, what: "'update'", services: services) } ?? []
        var dependsOn: [Dependency] = []
        if let node = map["depends-on"], let items = reader.sequence(node, what: "'depends-on'") {
            for item in items {
                guard let other = reader.nonEmptyString(item, what: "a service in 'depends-on'") else { continue }
                if other == name {
                    reader.error(at: item, "service '\(name)' cannot depend on itself")
                } else if !services.contains(other) {
                    reader.error(at: item, "unknown service '\(other)' in 'depends-on'\(didYouMean(other, among: services.filter { $0 != name })); "
                                     + "services here: \(services.joined(separator: ", "))")
                } else {
                    dependsOn.append(Dependency(name: other, location: reader.location(item.mark)))
                }
            }
        }
        let env = map["env"].map { parseEnv(reader, $0, what: "'env' of service '\(name)'", services: services) } ?? []
        let live = map["live"].flatMap { parseLive(reader, $0) }
        var leases: Leases?
        if let node = map["leases"], let keyNode = map.keyNode("leases"), let parsed = LeaseSettings.parse(reader, node) {
            leases = Leases(databases: parsed.databases, pool: parsed.pool, ttl: parsed.ttl, maxLent: parsed.maxLent,
                            location: reader.location(keyNode.mark))
        }
        guard reader.diagnostics.count == before, let image, let imageNode = map["image"] else { return nil }
        return Service(name: name, image: image, imageLocation: reader.location(imageNode.mark), hostPort: hostPort,
                       publish: publish, setup: setup, update: update, location: reader.location(keyNode.mark),
                       dependsOn: dependsOn, env: env, live: live, leases: leases)
    }

    /// An `env` mapping: variable names and templates, each checked.
    static func parseEnv(_ reader: YAMLReader, _ node: Node, what: String, services: [String]) -> [EnvEntry] {
        guard let pairs = reader.stringMap(node, what: what) else { return [] }
        var env: [EnvEntry] = []
        for p in pairs {
            guard isEnvName(p.key) else {
                reader.error(at: p.keyNode, "'\(p.key)' is not a valid environment variable name; use letters, digits and '_'")
                continue
            }
            if let t = checkedReference(reader, p.valueNode, raw: p.value, services: services) {
                env.append(EnvEntry(name: p.key, value: t, location: reader.location(p.keyNode.mark)))
            }
        }
        return env
    }

    static func parseLive(_ reader: YAMLReader, _ node: Node) -> Live? {
        guard let map = reader.mapping(node, what: "'live'", allowed: ["path", "mount", "writable"], required: ["path", "mount"]),
              let pathNode = map["path"], let path = reader.nonEmptyString(pathNode, what: "'path'"),
              let mountNode = map["mount"], let mount = reader.nonEmptyString(mountNode, what: "'mount'") else { return nil }
        var ok = true
        if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
            reader.error(at: pathNode, "'path' is a folder of the checkout, relative to it, like 'app'; got '\(path)'")
            ok = false
        }
        if !mount.hasPrefix("/") || mount == "/" || mount.split(separator: "/").contains("..") {
            reader.error(at: mountNode, "'mount' is an absolute path in the container other than '/', like /app; got '\(mount)'")
            ok = false
        }
        let writable = map["writable"].flatMap { reader.bool($0, what: "'writable'") } ?? false
        return ok ? Live(path: path, mount: mount, writable: writable) : nil
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in p.count <= 3 && Int(p).map { (0...255).contains($0) } == true }
    }

    static func parseSteps(_ reader: YAMLReader, _ node: Node, what: String, services: [String]) -> [Step] {
        guard let items = reader.sequence(node, what: what) else { return [] }
        var steps: [Step] = []
        for item in items {
            guard let pairs = reader.namedMapping(item, what: "a step in \(what)") else { continue }
            guard pairs.count == 1, let (action, actionNode, value) = pairs.first.map({ ($0.key, $0.keyNode, $0.value) }) else {
                reader.error(at: item, pairs.isEmpty
                    ? "a step names one action, like '- sql: {database: app, file: schema.sql}'"
                    : "a step names exactly one action; write each action as its own '- ' item")
                continue
            }
            let location = reader.location(actionNode.mark)
            if action == "run" {
                guard let raw = reader.nonEmptyString(value, what: "'run'"),
                      let t = checkedReference(reader, value, raw: raw, services: services) else { continue }
                steps.append(Step(action: "run", location: location, params: [], command: t))
                continue
            }
            var params: [Step.Param] = []
            if case .scalar = value, reader.scalarString(value) == nil {
                // `- create-database:` with no parameters.
            } else if let pmap = reader.namedMapping(value, what: "the parameters of '\(action)'") {
                for (pname, pkey, pvalue) in pmap {
                    guard let raw = reader.string(pvalue, what: "parameter '\(pname)'"),
                          let t = checkedReference(reader, pvalue, raw: raw, services: services) else { continue }
                    params.append(Step.Param(name: pname, value: t, location: reader.location(pkey.mark),
                                             valueLocation: reader.location(pvalue.mark)))
                }
            }
            steps.append(Step(action: action, location: location, params: params, command: nil))
        }
        return steps
    }

    /// Checks every reference a sandbox recipe string may hold: `{instance}`, `{sandbox}`,
    /// `{SERVICE.FIELD}` and `{env.NAME}` (with an optional `:-default`), and no SQL filter.
    static func checkedReference(_ reader: YAMLReader, _ node: Node, raw: String, services: [String]) -> Template? {
        ImageRecipe.checkedTemplate(reader, node, raw: raw) { reference in
            if let problem = referenceProblem(reference.name, services: services) { return problem }
            return reference.filter == nil ? nil : "'\(reference.text)': \(RecipeMessages.sqlFilterInSandboxRecipe)"
        }
    }

    static func referenceProblem(_ name: String, services: [String]) -> String? {
        if name == "instance" || name == "sandbox" { return nil }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            if parts[0] == "env" { return isEnvName(parts[1]) ? nil : "'\(parts[1])' is not a valid environment variable name" }
            if services.contains(parts[0]) {
                return serviceFields.contains(parts[1]) ? nil
                    : "unknown field '\(parts[1])' of service '\(parts[0])'\(didYouMean(parts[1], among: serviceFields)); "
                        + "known: \(serviceFields.joined(separator: ", "))"
            }
            return "unknown service '\(parts[0])' in '{\(name)}'\(didYouMean(parts[0], among: services + ["env"]))"
        }
        return "unknown reference '{\(name)}'\(didYouMean(name, among: ["instance", "sandbox"])); use {instance}, {sandbox}, {SERVICE.port} or {env.NAME}"
    }
}
