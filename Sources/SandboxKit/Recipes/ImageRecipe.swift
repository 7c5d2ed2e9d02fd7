import Foundation
import Yams

/// How to build one component image, where its data lives, how it starts, and what it can do.
public struct ImageRecipe: Sendable, Equatable {
    /// The component name, `image:`; also the recipe's file name without `.yml`.
    public var name: String
    /// The file it came from, as shown in diagnostics.
    public var path: String
    /// The folder `copy` sources are relative to; nil for stock recipes built into the tool.
    public var directory: String?
    /// `from:`: another recipe's name, or an external image such as `debian:bookworm`.
    public var from: String?
    public var fromLocation: SourceLocation?
    /// `bootstrap:`: how to make this base image without a registry.
    public var bootstrap: Bootstrap?
    public var build: [BuildStep]
    public var service: ServiceSpec?
    public var actions: [String: Action]
    public var source: String

    public struct Bootstrap: Sendable, Equatable, Codable {
        /// The image name this recipe stands in for, e.g. `debian:bookworm`.
        public var provides: String
        public var suite: String
        public var variant: String
        /// Extra packages debootstrap includes.
        public var include: [String]
    }

    public enum BuildStep: Sendable, Equatable, Codable {
        case apt([String])
        case run(String)
        case copy(source: String, destination: String, mode: String?)
        case env([String: String])
    }

    public struct Action: Sendable, Equatable, Codable {
        public var name: String
        public var params: [Param]
        public var run: Template
        /// Name of the file parameter whose content is fed to the command's standard input.
        public var stdin: String?
        public var location: SourceLocation
    }

    public struct Param: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case string, file, files }
        public var name: String
        public var kind: Kind
        public var defaultValue: String?
        public var required: Bool { defaultValue == nil }
    }
}

/// The running side of an image recipe.
public struct ServiceSpec: Sendable, Equatable, Codable {
    /// The OS user the service runs as, inside the container.
    public var runAs: String
    public var data: String
    public var port: Int
    /// Engine and major version stamped into every data dir this image makes.
    public var engine: String
    public var version: String
    /// The login user; its password is generated per data dir.
    public var user: String?
    public var env: [String: String]
    public var initSteps: [Template]
    public var start: Template
    public var ready: Template
    public var stopSignal: String
    public var stopTimeout: Int
    /// Seconds `ready` may take to pass after the container starts.
    public var readyTimeout: Int
    /// Connection URL as seen from the host: `{host}`, `{port}` (the published one), `{user}`, `{password}`.
    public var url: Template?
    public var client: Client?

    public struct Client: Sendable, Equatable, Codable {
        public var name: String
        public var run: Template
    }
}

/// Names every image recipe may use in its commands, besides action parameters.
enum ImageReferences {
    static let command = ["user", "password", "port", "data", "run-as"]
    static let url = ["user", "password", "port", "host"]
}

extension ImageRecipe {
    static let topKeys = ["image", "from", "bootstrap", "build", "service", "actions"]
    static let serviceKeys = ["run-as", "data", "port", "engine", "version", "user", "env", "init", "start", "ready",
                              "stop-signal", "stop-timeout", "ready-timeout", "url", "client"]

    /// Reads one image recipe, appending every problem to `reader`.
    static func parse(_ reader: YAMLReader, directory: String?) -> ImageRecipe? {
        guard let root = reader.root() else { return nil }
        guard let top = reader.mapping(root, what: "an image recipe", allowed: topKeys, required: ["image"]) else { return nil }
        let before = reader.diagnostics.count
        var recipe = ImageRecipe(name: "", path: reader.path, directory: directory, from: nil, bootstrap: nil,
                                 build: [], service: nil, actions: [:], source: reader.source)
        if let node = top["image"], let name = reader.nonEmptyString(node, what: "'image'") {
            if isComponentName(name) { recipe.name = name } else {
                reader.error(at: node, "'image' must be lower-case letters, digits, '.', '-' or '_', like 'postgresql-15'; got '\(name)'")
            }
        }
        if let node = top["from"], let from = reader.nonEmptyString(node, what: "'from'") {
            recipe.from = from
            recipe.fromLocation = reader.location(node.mark)
        }
        if let node = top["bootstrap"] { recipe.bootstrap = parseBootstrap(reader, node) }
        if recipe.from == nil && recipe.bootstrap == nil {
            reader.error(at: root, "an image recipe needs 'from' (the image it starts from) or 'bootstrap' (how to make a base image)")
        }
        if recipe.from != nil && recipe.bootstrap != nil, let node = top.keyNode("bootstrap") {
            reader.error(at: node, "'bootstrap' makes a base image from nothing and cannot be combined with 'from'")
        }
        if let node = top["build"], let steps = reader.sequence(node, what: "'build'") {
            recipe.build = steps.compactMap { parseBuildStep(reader, $0, directory: directory) }
        }
        if let node = top["service"] { recipe.service = parseService(reader, node) }
        if let node = top["actions"] { recipe.actions = parseActions(reader, node) }
        if recipe.bootstrap != nil, let node = top.keyNode("service") ?? top.keyNode("actions") {
            reader.error(at: node, "a bootstrapped base image has no service or actions; write a recipe with 'from: \(recipe.bootstrap?.provides ?? "it")' for them")
        } else if top["service"] == nil, recipe.from == nil, let node = top.keyNode("actions") {
            reader.error(at: node, "'actions' run inside the service; add a 'service' section (or build on a recipe that has one with 'from')")
        }
        return reader.diagnostics.count == before ? recipe : nil
    }

    static func isComponentName(_ name: String) -> Bool {
        guard let first = name.first, first.isLowercase || first.isNumber else { return false }
        return name.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || "-_.".contains($0) }
    }

    static func parseBootstrap(_ reader: YAMLReader, _ node: Node) -> Bootstrap? {
        guard let map = reader.mapping(node, what: "'bootstrap'", allowed: ["provides", "suite", "variant", "include"],
                                       required: ["provides", "suite"]) else { return nil }
        let provides = map["provides"].flatMap { reader.nonEmptyString($0, what: "'provides'") }
        let suite = map["suite"].flatMap { reader.nonEmptyString($0, what: "'suite'") }
        var variant = "minbase"
        if let node = map["variant"], let v = reader.string(node, what: "'variant'") {
            if ["minbase", "buildd", "fakechroot"].contains(v) { variant = v } else {
                reader.error(at: node, "'variant' must be minbase, buildd or fakechroot, not '\(v)'")
            }
        }
        let include = map["include"].flatMap { reader.stringList($0, what: "'include'") } ?? []
        guard let provides, let suite else { return nil }
        return Bootstrap(provides: provides, suite: suite, variant: variant, include: include)
    }

    static let buildStepKinds = ["apt", "run", "copy", "env"]

    static func parseBuildStep(_ reader: YAMLReader, _ node: Node, directory: String?) -> BuildStep? {
        guard let map = reader.mapping(node, what: "a build step", allowed: buildStepKinds) else { return nil }
        guard map.pairs.count == 1, let (kind, _, value) = map.pairs.first.map({ ($0.key, $0.keyNode, $0.value) }) else {
            if map.pairs.count > 1 {
                reader.error(at: node, "a build step has exactly one of \(buildStepKinds.joined(separator: ", ")); write each as its own '- ' item")
            } else if reader.diagnostics.isEmpty {
                reader.error(at: node, "a build step needs one of \(buildStepKinds.joined(separator: ", "))")
            }
            return nil
        }
        switch kind {
        case "apt":
            guard let packages = reader.stringList(value, what: "'apt'") else { return nil }
            if packages.isEmpty { reader.error(at: value, "'apt' needs at least one package"); return nil }
            for p in packages where !p.allSatisfy({ $0.isLetter || $0.isNumber || "+-.:=~".contains($0) }) {
                reader.error(at: value, "'\(p)' is not a Debian package name")
                return nil
            }
            return .apt(packages)
        case "run":
            return reader.nonEmptyString(value, what: "'run'").map { .run($0) }
        case "env":
            guard let pairs = reader.stringMap(value, what: "'env'") else { return nil }
            return .env(Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        default: // copy
            guard let map = reader.mapping(value, what: "'copy'", allowed: ["src", "dest", "mode"], required: ["src", "dest"]) else { return nil }
            let src = map["src"].flatMap { reader.nonEmptyString($0, what: "'src'") }
            let dest = map["dest"].flatMap { reader.nonEmptyString($0, what: "'dest'") }
            var mode: String?
            if let node = map["mode"], let m = reader.string(node, what: "'mode'") {
                if m.count >= 3, m.count <= 4, m.allSatisfy({ ("0"..."7").contains($0) }) { mode = m } else {
                    reader.error(at: node, "'mode' must be octal like '0644', not '\(m)'")
                }
            }
            guard let src, let dest else { return nil }
            if let node = map["dest"], !dest.hasPrefix("/") { reader.error(at: node, "'dest' must be an absolute path in the image") }
            if let node = map["src"] {
                if src.hasPrefix("/") || src.split(separator: "/").contains("..") {
                    reader.error(at: node, "'src' must be a path inside the recipe's folder, not '\(src)'")
                } else if let directory {
                    var isDir: ObjCBool = false
                    let full = (directory as NSString).appendingPathComponent(src)
                    if !FileManager.default.fileExists(atPath: full, isDirectory: &isDir) || isDir.boolValue {
                        reader.error(at: node, "file '\(src)' does not exist next to \(reader.path)")
                    }
                } else {
                    reader.error(at: node, "stock recipes cannot copy files")
                }
            }
            return .copy(source: src, destination: dest, mode: mode)
        }
    }

    static func template(_ reader: YAMLReader, _ node: Node, what: String, allowed: [String]) -> Template? {
        guard let raw = reader.nonEmptyString(node, what: what) else { return nil }
        return checkedTemplate(reader, node, raw: raw, allowed: { allowed.contains($0) ? nil : "unknown reference '{\($0)}' in \(what)\(didYouMean($0, among: allowed)); known here: \(allowed.map { "{\($0)}" }.joined(separator: ", "))" })
    }

    /// Parses a template and checks each reference; `allowed` returns an error message for a bad one.
    static func checkedTemplate(_ reader: YAMLReader, _ node: Node, raw: String, allowed: (String) -> String?) -> Template? {
        switch Template.parse(raw) {
        case let .failure(error):
            reader.error(at: templateLocation(reader, node, offset: error.offset), error.message)
            return nil
        case let .success(template):
            var ok = true
            for part in template.parts {
                guard case let .reference(name, _) = part, let message = allowed(name) else { continue }
                let offset = raw.range(of: "{\(name)").map { raw.distance(from: raw.startIndex, to: $0.lowerBound) } ?? 0
                reader.error(at: templateLocation(reader, node, offset: offset), message)
                ok = false
            }
            return ok ? template : nil
        }
    }

    /// Points into a plain or quoted one-line scalar; falls back to the scalar's start.
    static func templateLocation(_ reader: YAMLReader, _ node: Node, offset: Int) -> SourceLocation {
        var location = reader.location(node.mark)
        if case let .scalar(scalar) = node {
            switch scalar.style {
            case .plain where !scalar.string.contains("\n"): location.column += offset
            case .singleQuoted, .doubleQuoted:
                if !scalar.string.contains("\n"), !scalar.string.contains("'"), !scalar.string.contains("\\") {
                    location.column += offset + 1
                }
            default: break
            }
        }
        return location
    }

    static func parseService(_ reader: YAMLReader, _ node: Node) -> ServiceSpec? {
        guard let map = reader.mapping(node, what: "'service'", allowed: serviceKeys,
                                       required: ["run-as", "port", "engine", "version", "start", "ready"]) else { return nil }
        let before = reader.diagnostics.count
        let cmd = ImageReferences.command
        let runAs = map["run-as"].flatMap { reader.nonEmptyString($0, what: "'run-as'") }
        if let node = map["run-as"], runAs == "root" {
            reader.error(at: node, "services must not run as root; name the service's own user, like 'postgres'")
        }
        var data = "/data"
        if let node = map["data"], let d = reader.nonEmptyString(node, what: "'data'") {
            if d.hasPrefix("/") && d != "/" { data = d } else { reader.error(at: node, "'data' must be an absolute path other than '/'") }
        }
        let port = map["port"].flatMap { reader.int($0, what: "'port'", range: 1...65535) }
        let engine = map["engine"].flatMap { reader.nonEmptyString($0, what: "'engine'") }
        let version = map["version"].flatMap { reader.nonEmptyString($0, what: "'version'") }
        let user = map["user"].flatMap { reader.nonEmptyString($0, what: "'user'") }
        var env: [String: String] = [:]
        if let node = map["env"], let pairs = reader.stringMap(node, what: "'env'") {
            for p in pairs { env[p.key] = p.value }
        }
        var initSteps: [Template] = []
        if let node = map["init"], let items = reader.sequence(node, what: "'init'") {
            for item in items {
                if let t = template(reader, item, what: "an 'init' command", allowed: cmd) { initSteps.append(t) }
            }
        }
        let start = map["start"].flatMap { template(reader, $0, what: "'start'", allowed: cmd) }
        let ready = map["ready"].flatMap { template(reader, $0, what: "'ready'", allowed: cmd) }
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
        let url = map["url"].flatMap { template(reader, $0, what: "'url'", allowed: ImageReferences.url) }
        var client: ServiceSpec.Client?
        if let node = map["client"], let c = reader.mapping(node, what: "'client'", allowed: ["name", "run"], required: ["name", "run"]) {
            let name = c["name"].flatMap { reader.nonEmptyString($0, what: "'name'") }
            if let n = name, let nameNode = c["name"], !isComponentName(n) {
                reader.error(at: nameNode, "a client's 'name' becomes a command, like 'psql'; got '\(n)'")
            }
            let run = c["run"].flatMap { template(reader, $0, what: "the client's 'run'", allowed: cmd) }
            if let name, let run { client = .init(name: name, run: run) }
        }
        guard reader.diagnostics.count == before, let runAs, let port, let engine, let version, let start, let ready else { return nil }
        for t in [start, ready] + initSteps where t.references.contains("password") || t.references.contains("user") {
            if user == nil, let node = map["start"] {
                reader.error(at: node, "commands use {user} or {password}, but 'service' has no 'user' to log in as")
                return nil
            }
        }
        return ServiceSpec(runAs: runAs, data: data, port: port, engine: engine, version: version, user: user, env: env,
                           initSteps: initSteps, start: start, ready: ready, stopSignal: stopSignal, stopTimeout: stopTimeout, readyTimeout: readyTimeout,
                           url: url, client: client)
    }

    static func parseActions(_ reader: YAMLReader, _ node: Node) -> [String: Action] {
        guard let pairs = reader.namedMapping(node, what: "'actions'") else { return [:] }
        var actions: [String: Action] = [:]
        for (name, keyNode, value) in pairs {
            if !isComponentName(name) || name == "run" {
                reader.error(at: keyNode, name == "run"
                    ? "'run' is a built-in step and cannot be redefined as an action"
                    : "action names are lower-case words joined by '-', like 'create-database'; got '\(name)'")
                continue
            }
            if let action = parseAction(reader, name: name, keyNode: keyNode, value) { actions[name] = action }
        }
        return actions
    }

    static func parseAction(_ reader: YAMLReader, name: String, keyNode: Node, _ node: Node) -> Action? {
        let location = reader.location(keyNode.mark)
        // Short form: `create-database: createdb {name}`; every unknown reference is a required string parameter.
        if case .scalar = node {
            guard let raw = reader.nonEmptyString(node, what: "action '\(name)'") else { return nil }
            guard let t = checkedTemplate(reader, node, raw: raw, allowed: { _ in nil }) else { return nil }
            var params: [Param] = []
            for ref in t.references where !ImageReferences.command.contains(ref) && !params.contains(where: { $0.name == ref }) {
                if ref.contains(".") {
                    reader.error(at: node, "'{\(ref)}' is not a parameter name; parameters are single words like {name}")
                    return nil
                }
                params.append(Param(name: ref, kind: .string, defaultValue: nil))
            }
            return Action(name: name, params: params, run: t, stdin: nil, location: location)
        }
        guard let map = reader.mapping(node, what: "action '\(name)'", allowed: ["params", "run", "stdin"], required: ["run"]) else { return nil }
        var params: [Param] = []
        if let node = map["params"], let pairs = reader.namedMapping(node, what: "'params'") {
            for (pname, pkey, pvalue) in pairs {
                if ImageReferences.command.contains(pname) {
                    reader.error(at: pkey, "'\(pname)' is a built-in reference and cannot be a parameter name")
                    continue
                }
                if case .scalar = pvalue, let kindText = reader.string(pvalue, what: "parameter '\(pname)'") {
                    guard let kind = Param.Kind(rawValue: kindText) else {
                        reader.error(at: pvalue, "parameter type must be string, file or files, not '\(kindText)'\(didYouMean(kindText, among: Param.Kind.allCases.map(\.rawValue)))")
                        continue
                    }
                    params.append(Param(name: pname, kind: kind, defaultValue: nil))
                } else if let pm = reader.mapping(pvalue, what: "parameter '\(pname)'", allowed: ["type", "default"]) {
                    var kind = Param.Kind.string
                    if let t = pm["type"], let k = reader.string(t, what: "'type'") {
                        if let parsed = Param.Kind(rawValue: k) { kind = parsed } else {
                            reader.error(at: t, "parameter type must be string, file or files, not '\(k)'\(didYouMean(k, among: Param.Kind.allCases.map(\.rawValue)))")
                        }
                    }
                    let def = pm["default"].flatMap { reader.string($0, what: "'default'") }
                    params.append(Param(name: pname, kind: kind, defaultValue: def))
                }
            }
        }
        let known = ImageReferences.command + params.map(\.name)
        let run = map["run"].flatMap { template(reader, $0, what: "action '\(name)'", allowed: known) }
        var stdin: String?
        if let node = map["stdin"], let s = reader.string(node, what: "'stdin'") {
            if let p = params.first(where: { $0.name == s }), p.kind != .string { stdin = s } else {
                reader.error(at: node, "'stdin' must name a parameter of type file or files; '\(s)' is not one")
            }
        }
        guard let run else { return nil }
        for p in params where p.kind != .string && p.name != stdin {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is a \(p.kind.rawValue) parameter; files reach the command on its standard input, so add 'stdin: \(p.name)'")
            return nil
        }
        for p in params where p.kind == .string && !run.references.contains(p.name) {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is never used in 'run'")
            return nil
        }
        return Action(name: name, params: params, run: run, stdin: stdin, location: location)
    }
}
