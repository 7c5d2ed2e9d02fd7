import Foundation
import Yams

extension ImageRecipe {
    /// Something a service can do, named by sandbox recipes' steps: `create-database`, `sql`, `set-password`.
    package struct Action: Sendable, Equatable, Codable {
        package var name: String
        package var params: [Param]
        package var run: Template
        /// Name of the file parameter whose content is fed to the command's standard input.
        package var stdin: String?
        package var location: SourceLocation
        /// Where `run` first uses an SQL filter: the service the action runs under must declare SQL quoting.
        package var filterLocation: SourceLocation?

        package func param(_ name: String) -> Param? { params.first { $0.name == name } }

        var firstFilter: (Template.Reference, SourceLocation)? {
            guard let filterLocation, let reference = run.referenceParts.first(where: { $0.filter != nil }) else { return nil }
            return (reference, filterLocation)
        }
    }

    package struct Param: Sendable, Equatable, Codable {
        package enum Kind: String, Sendable, Codable, CaseIterable {
            case string
            /// A database, role or user name: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`, checked before it reaches a command.
            case identifier
            /// A name the engine takes quoted or as a client's value (a database): 1–63 characters, no control character,
            /// never starting with '-' (so it can never be read as an option).
            case name
            /// A password or token: any text, never shown (step titles print `***`).
            case secret
            /// A file under Recipes/, fed to the command's standard input.
            case file
            /// A file or a folder of them (one step per file).
            case files

            package var isFile: Bool { self == .file || self == .files }
        }

        package var name: String
        package var kind: Kind
        package var defaultValue: String?
        package var required: Bool { defaultValue == nil }

        /// Why `value` does not fit this parameter's type, and the rule it breaks; nil when it fits.
        package func problem(with value: String, action: String) -> (message: String, rule: String)? {
            if value.unicodeScalars.contains("\0") {
                return ("the value of parameter '\(name)' of action '\(action)' holds a NUL character", RecipeMessages.nulRule)
            }
            switch kind {
            case .identifier where !Self.isIdentifier(value):
                return (RecipeMessages.invalidIdentifier(value, param: name, action: action), RecipeMessages.identifierRule)
            case .name where !Self.isName(value):
                return (RecipeMessages.invalidName(value, param: name, action: action), RecipeMessages.nameRule)
            default:
                return nil
            }
        }

        /// 1–63 characters, none a control character, not starting with '-'.
        package static func isName(_ value: String) -> Bool {
            let scalars = value.unicodeScalars
            return !scalars.isEmpty && scalars.count <= 63 && scalars.first != "-"
                && !scalars.contains { $0.properties.generalCategory == .control }
        }

        /// `^[A-Za-z_][A-Za-z0-9_]{0,62}$`: a name every engine takes, quoted or not, without truncating it.
        package static func isIdentifier(_ value: String) -> Bool {
            let scalars = value.unicodeScalars
            guard let first = scalars.first, scalars.count <= 63 else { return false }
            func start(_ s: Unicode.Scalar) -> Bool { ("A"..."Z").contains(s) || ("a"..."z").contains(s) || s == "_" }
            return start(first) && scalars.allSatisfy { start($0) || ("0"..."9").contains($0) }
        }
    }
}

extension ImageRecipe {
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
            return Action(name: name, params: params, run: t, stdin: nil, location: location,
                          filterLocation: firstFilter(reader, node, t)?.1)
        }
        guard let map = reader.mapping(node, what: "action '\(name)'", allowed: ["params", "run", "stdin"], required: ["run"]) else { return nil }
        var params: [Param] = []
        if let node = map["params"], let pairs = reader.namedMapping(node, what: "'params'") {
            for (pname, pkey, pvalue) in pairs {
                if let p = parseParam(reader, name: pname, keyNode: pkey, pvalue, action: name) { params.append(p) }
            }
        }
        let known = ImageReferences.command + params.map(\.name)
        let run = map["run"].flatMap { template(reader, $0, what: "action '\(name)'", allowed: known) }
        var stdin: String?
        if let node = map["stdin"], let s = reader.string(node, what: "'stdin'") {
            if let p = params.first(where: { $0.name == s }), p.kind.isFile { stdin = s } else {
                reader.error(at: node, "'stdin' must name a parameter of type file or files; '\(s)' is not one")
            }
        }
        guard let run, let runNode = map["run"] else { return nil }
        for p in params where p.kind.isFile && p.name != stdin {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is a \(p.kind.rawValue) parameter; "
                             + "files reach the command on its standard input, so add 'stdin: \(p.name)'")
            return nil
        }
        for p in params where !p.kind.isFile && !run.references.contains(p.name) {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is never used in 'run'")
            return nil
        }
        return Action(name: name, params: params, run: run, stdin: stdin, location: location,
                      filterLocation: firstFilter(reader, runNode, run)?.1)
    }

    static let paramTypes = "string, identifier, name, secret, file or files"

    /// `name: identifier`, or `name: {type: identifier, default: app}`.
    static func parseParam(_ reader: YAMLReader, name: String, keyNode: Node, _ node: Node, action: String) -> Param? {
        if ImageReferences.command.contains(name) {
            reader.error(at: keyNode, "'\(name)' is a built-in reference and cannot be a parameter name")
            return nil
        }
        let kinds = Param.Kind.allCases.map(\.rawValue)
        if case .scalar = node, let kindText = reader.string(node, what: "parameter '\(name)'") {
            guard let kind = Param.Kind(rawValue: kindText) else {
                reader.error(at: node, "parameter type must be \(paramTypes), not '\(kindText)'\(didYouMean(kindText, among: kinds))")
                return nil
            }
            return Param(name: name, kind: kind, defaultValue: nil)
        }
        guard let map = reader.mapping(node, what: "parameter '\(name)'", allowed: ["type", "default"]) else { return nil }
        var kind = Param.Kind.string
        if let t = map["type"], let k = reader.string(t, what: "'type'") {
            if let parsed = Param.Kind(rawValue: k) { kind = parsed } else {
                reader.error(at: t, "parameter type must be \(paramTypes), not '\(k)'\(didYouMean(k, among: kinds))")
            }
        }
        let param = Param(name: name, kind: kind, defaultValue: map["default"].flatMap { reader.string($0, what: "'default'") })
        // A default with references is a sandbox-recipe template, checked when a step renders it.
        if let value = param.defaultValue, let node = map["default"], case let .success(t) = Template.parse(value), t.referenceParts.isEmpty,
           let text = try? t.render({ _ in nil }), let problem = param.problem(with: text, action: action) {
            let message = problem.message.hasPrefix("the value") ? "the default value" + problem.message.dropFirst("the value".count)
                : "the default \(problem.message)"
            reader.error(at: node, "\(message): \(problem.rule)")
        }
        return param
    }
}
