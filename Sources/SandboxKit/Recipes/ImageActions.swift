import Foundation
import Yams

extension ImageRecipe {
    /// Something a service can do, named by sandbox recipes' steps: `create-database`, `sql`.
    public struct Action: Sendable, Equatable, Codable {
        public var name: String
        public var params: [Param]
        public var run: Template
        /// Name of the file parameter whose content is fed to the command's standard input.
        public var stdin: String?
        public var location: SourceLocation
        /// Where `run` first uses an SQL filter: the engine the action runs under must have a dialect.
        public var filterLocation: SourceLocation?

        var firstFilter: (Template.Reference, SourceLocation)? {
            guard let filterLocation, let reference = run.referenceParts.first(where: { $0.filter != nil }) else { return nil }
            return (reference, filterLocation)
        }
    }

    public struct Param: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case string, file, files }
        public var name: String
        public var kind: Kind
        public var defaultValue: String?
        public var required: Bool { defaultValue == nil }
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
        guard let run, let runNode = map["run"] else { return nil }
        for p in params where p.kind != .string && p.name != stdin {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is a \(p.kind.rawValue) parameter; files reach the command on its standard input, so add 'stdin: \(p.name)'")
            return nil
        }
        for p in params where p.kind == .string && !run.references.contains(p.name) {
            reader.error(at: location, "parameter '\(p.name)' of action '\(name)' is never used in 'run'")
            return nil
        }
        return Action(name: name, params: params, run: run, stdin: stdin, location: location,
                      filterLocation: firstFilter(reader, runNode, run)?.1)
    }
}
