import Foundation
import Yams

/// How to build one component image, where its data lives, how it starts, and what it can do.
package struct ImageRecipe: Sendable, Equatable {
    /// The component name, `image:`; also the recipe's file name without `.yml`.
    package var name: String
    /// The file it came from, as shown in diagnostics.
    package var path: String
    /// The folder `copy` sources are relative to; nil for stock recipes built into the tool.
    package var directory: String?
    /// `from:`: another recipe's name, or an external image such as `debian:bookworm`.
    package var from: String?
    package var fromLocation: SourceLocation?
    /// `bootstrap:`: how to make this base image without a registry.
    package var bootstrap: Bootstrap?
    package var build: [BuildStep]
    /// `context:`: a folder of the checkout (relative to it) the image is built from; `copy` takes files and folders
    /// from it, and a change to any file in it (but what `.dockerignore` leaves out) rebuilds the image.
    package var context: String?
    /// `dockerfile:`: the project's own Dockerfile (relative to the checkout), built with `context` (its folder unless
    /// given); sandbox adds only its entry script on top.
    package var dockerfile: String?
    package var service: ServiceSpec?
    package var actions: [String: Action]
    package var source: String

    package struct Bootstrap: Sendable, Equatable, Codable {
        /// The image name this recipe stands in for, e.g. `debian:bookworm`.
        package var provides: String
        package var suite: String
        package var variant: String
        /// Extra packages debootstrap includes.
        package var include: [String]
    }

    package enum BuildStep: Sendable, Equatable, Codable {
        case apt([String])
        case run(String)
        case copy(source: String, destination: String, mode: String?)
        case env([String: String])
    }
}

/// Names every image recipe may use in its commands, besides action parameters.
enum ImageReferences {
    static let command = ["user", "password", "port", "data", "run-as"]
    static let url = ["user", "password", "port", "host"]
}

extension ImageRecipe {
    static let topKeys = ["image", "extends", "from", "bootstrap", "build", "context", "dockerfile", "service", "actions"]

    /// Reads one image recipe, appending every problem to `reader`; `parents` finds the recipes it `extends`.
    static func parse(_ reader: YAMLReader, directory: String?, parents: RecipeExtends.Parents = { _ in nil }) -> ImageRecipe? {
        guard let written = reader.root(), let root = RecipeExtends.merged(written, reader, directory: directory, parents: parents) else { return nil }
        return parse(reader, root: root, directory: directory)
    }

    /// Reads an image recipe's document, `extends` already merged into it.
    static func parse(_ reader: YAMLReader, root: Node, directory: String?) -> ImageRecipe? {
        guard let top = reader.mapping(root, what: "an image recipe", allowed: topKeys, required: ["image"]) else { return nil }
        let before = reader.diagnostics.count
        var recipe = ImageRecipe(name: "", path: reader.path, directory: directory, from: nil, bootstrap: nil,
                                 build: [], context: nil, dockerfile: nil, service: nil, actions: [:], source: reader.source)
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
        parseCheckoutBuild(reader, top, directory: directory, into: &recipe)
        if recipe.from == nil && recipe.bootstrap == nil && recipe.dockerfile == nil && top["dockerfile"] == nil {
            reader.error(at: root, "an image recipe needs 'from' (the image it starts from), 'bootstrap' (how to make a base image) "
                             + "or 'dockerfile' (the project's own)")
        }
        if recipe.from != nil && recipe.bootstrap != nil, let node = top.keyNode("bootstrap") {
            reader.error(at: node, "'bootstrap' makes a base image from nothing and cannot be combined with 'from'")
        }
        if let node = top["build"], let steps = reader.sequence(node, what: "'build'") {
            recipe.build = steps.compactMap { parseBuildStep(reader, $0, directory: directory, context: recipe.context) }
        }
        if let node = top["service"] { recipe.service = parseService(reader, node) }
        if let node = top["actions"] { recipe.actions = parseActions(reader, node) }
        // The engine as written, even when the rest of 'service' has errors: every problem is reported at once.
        // Actions a recipe without a service inherits or passes on are checked against its engine when resolved.
        if let service = top["service"]?.mapping, let engine = recipe.service?.engine ?? service["engine"]?.string, service["sql"] == nil {
            for action in recipe.actions.values.sorted(by: { $0.location < $1.location }) {
                if let (reference, location) = action.firstFilter { reader.error(at: location, RecipeMessages.noQuoting(reference, engine: engine)) }
            }
        }
        if recipe.bootstrap != nil, let node = top.keyNode("service") ?? top.keyNode("actions") {
            reader.error(at: node, "a bootstrapped base image has no service or actions; "
                             + "write a recipe with 'from: \(recipe.bootstrap?.provides ?? "it")' for them")
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

    static func parseBuildStep(_ reader: YAMLReader, _ node: Node, directory: String?, context: String? = nil) -> BuildStep? {
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
            if let node = map["src"], let context, let directory {
                // From the build context: a file or a folder inside it.
                let root = URL(fileURLWithPath: directory).deletingLastPathComponent()
                let folder = root.appendingPathComponent(context)
                switch ContainedPath.resolve(src == "." ? "" : src, under: folder, within: folder) {
                case .success: break
                case let .failure(.escapes(real)):
                    reader.error(at: node, "'src' must stay inside the context '\(context)'; '\(src)' leads to \(real)")
                case .failure(.missing): reader.error(at: node, "'\(src)' does not exist in the context '\(context)'")
                }
            } else if let node = map["src"] {
                if src.hasPrefix("/") || src.split(separator: "/").contains("..") {
                    reader.error(at: node, "'src' must be a path inside the recipe's folder, not '\(src)'")
                } else if let directory {
                    let folder = URL(fileURLWithPath: directory)
                    switch ContainedPath.resolve(src, under: folder, within: folder) {
                    case let .failure(.escapes(reached)):
                        reader.error(at: node, "'\(src)' leads outside Images/ (to \(reached)); an image recipe copies only files next to it")
                    case .failure(.missing): reader.error(at: node, "file '\(src)' does not exist next to \(reader.path)")
                    case let .success(real):
                        var isDir: ObjCBool = false
                        if FileManager.default.fileExists(atPath: real.path, isDirectory: &isDir), isDir.boolValue {
                            reader.error(at: node, "'\(src)' is a folder; 'copy' without 'context' takes one file next to \(reader.path)")
                        }
                    }
                } else {
                    reader.error(at: node, "stock recipes cannot copy files")
                }
            }
            return .copy(source: src, destination: dest, mode: mode)
        }
    }

    /// A command or URL template whose references must be among `allowed`; SQL filters only where `filters` is true.
    static func template(_ reader: YAMLReader, _ node: Node, what: String, allowed: [String], filters: Bool = true) -> Template? {
        guard let raw = reader.nonEmptyString(node, what: what) else { return nil }
        return checkedTemplate(reader, node, raw: raw) { ref in
            if !allowed.contains(ref.name) {
                let known = allowed.map { "{\($0)}" }.joined(separator: ", ")
                return "unknown reference '{\(ref.name)}' in \(what)\(didYouMean(ref.name, among: allowed)); known here: \(known)"
            }
            if !filters, ref.filter != nil {
                return "'\(ref.text)' quotes for SQL, which has no place in \(what); write {\(ref.name)}"
            }
            return nil
        }
    }

    /// Parses a template and checks each reference; `allowed` returns an error message for a bad one.
    static func checkedTemplate(_ reader: YAMLReader, _ node: Node, raw: String, allowed: (Template.Reference) -> String?) -> Template? {
        switch Template.parse(raw) {
        case let .failure(error):
            reader.error(at: templateLocation(reader, node, offset: error.offset), error.message)
            return nil
        case let .success(template):
            var ok = true
            for reference in template.referenceParts {
                guard let message = allowed(reference) else { continue }
                reader.error(at: templateLocation(reader, node, offset: reference.offset), message)
                ok = false
            }
            return ok ? template : nil
        }
    }

    /// Where a template's first SQL filter stands, for "this service declares no SQL quoting".
    static func firstFilter(_ reader: YAMLReader, _ node: Node, _ template: Template) -> (Template.Reference, SourceLocation)? {
        guard let reference = template.referenceParts.first(where: { $0.filter != nil }) else { return nil }
        return (reference, templateLocation(reader, node, offset: reference.offset))
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
}

extension ImageRecipe {
    /// `context:` and `dockerfile:`: folders and files of the checkout, each resolved (links followed) and held inside it.
    static func parseCheckoutBuild(_ reader: YAMLReader, _ top: YAMLReader.Entries, directory: String?, into recipe: inout ImageRecipe) {
        for key in ["context", "dockerfile"] {
            guard let node = top[key], let path = reader.nonEmptyString(node, what: "'\(key)'") else { continue }
            guard let directory else {
                reader.error(at: node, "stock recipes build nothing from a checkout; put this recipe in the checkout's Images/")
                continue
            }
            let checkout = URL(fileURLWithPath: directory).deletingLastPathComponent()
            switch ContainedPath.resolve(path, under: checkout, within: checkout) {
            case let .failure(.escapes(real)):
                reader.error(at: node, "'\(key)' must be inside the checkout, relative to it; '\(path)' leads to \(real)")
            case .failure(.missing):
                reader.error(at: node, "'\(key)': '\(path)' does not exist in the checkout")
            case let .success(real):
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: real.path, isDirectory: &isDirectory)
                if key == "context" && !isDirectory.boolValue { reader.error(at: node, "'context' must be a folder; '\(path)' is a file") }
                else if key == "dockerfile" && isDirectory.boolValue { reader.error(at: node, "'dockerfile' must be a file; '\(path)' is a folder") }
                else if key == "context" { recipe.context = path } else { recipe.dockerfile = path }
            }
        }
        if recipe.dockerfile != nil || top["dockerfile"] != nil {
            for key in ["from", "bootstrap", "build"] {
                if let node = top.keyNode(key) {
                    reader.error(at: node, "'\(key)' and 'dockerfile' exclude each other: the Dockerfile says how the image is built")
                }
            }
            if recipe.context == nil, let dockerfile = recipe.dockerfile { recipe.context = (dockerfile as NSString).deletingLastPathComponent }
        }
    }
}
