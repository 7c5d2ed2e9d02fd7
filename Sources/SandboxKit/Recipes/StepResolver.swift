import Foundation
import SandboxBase

/// A file a step feeds to its action: as the recipe names it (relative to Recipes/), and its real path.
package struct RecipeFile: Sendable, Equatable {
    package var relative: String
    package var real: String
}

/// Why a file parameter cannot be used.
enum RecipeFileProblem: Error, Equatable {
    case escapes(String, reached: String)
    case missing(String)
    case folderForOneFile
    case subfolder(String)
    case unreadable(String, String)

    func message(_ written: String, parameter: String, action: String) -> String {
        switch self {
        case let .escapes(path, reached):
            return "'\(path)' leads outside Recipes/ (to \(reached)); a recipe may read only files inside Recipes/, "
                + "so a link to anywhere else is refused"
        case let .missing(path): return "file 'Recipes/\(path)' does not exist"
        case .folderForOneFile: return "'Recipes/\(written)' is a folder, but parameter '\(parameter)' of '\(action)' takes one file"
        case let .subfolder(path): return "'Recipes/\(path)' is a folder inside the folder '\(written)'; parameter '\(parameter)' takes its files only"
        case let .unreadable(path, why): return "cannot read 'Recipes/\(path)': \(why)"
        }
    }
}

extension Resolver {
    /// The files a file parameter names: one file, or (for `files`) every file of a folder in name order, each resolved
    /// with its links followed and held inside `recipes`.
    static func recipeFiles(_ relative: String, folder allowed: Bool, in recipes: URL) -> Result<[RecipeFile], RecipeFileProblem> {
        let real: URL
        switch ContainedPath.resolve(relative, under: recipes, within: recipes) {
        case let .failure(.escapes(reached)): return .failure(.escapes(relative, reached: reached))
        case .failure(.missing): return .failure(.missing(relative))
        case let .success(url): real = url
        }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: real.path, isDirectory: &isDirectory)
        guard isDirectory.boolValue else { return .success([RecipeFile(relative: relative, real: real.path)]) }
        guard allowed else { return .failure(.folderForOneFile) }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: real.path) } catch {
            return .failure(.unreadable(relative, RecipeMessages.unreadable(error)))
        }
        var files: [RecipeFile] = []
        let prefix = relative.hasSuffix("/") ? relative : relative + "/"
        for name in names.filter({ !$0.hasPrefix(".") }).sorted() {
            let entry = prefix + name
            switch ContainedPath.resolve(entry, under: recipes, within: recipes) {
            case let .failure(.escapes(reached)): return .failure(.escapes(entry, reached: reached))
            case .failure(.missing): return .failure(.missing(entry))
            case let .success(url):
                var entryIsDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &entryIsDirectory)
                if entryIsDirectory.boolValue { return .failure(.subfolder(entry)) }
                files.append(RecipeFile(relative: entry, real: url.path))
            }
        }
        return .success(files)
    }

    /// A step's identity. For an action step that is the action's name, its parameters and the content of the
    /// file it reads, not the action's command: improving how an image runs `sql` must not rerun every migration.
    struct StepContent: Encodable {
        var action: String
        var command: String
        var params: [String: String]
        var stdin: String?
        var file: String?
        var fileHash: String?
    }

    func resolveSteps(_ steps: [SandboxRecipe.Step], kind: String, actions: [String: ImageRecipe.Action], spec: ServiceSpec,
                      recipeDir: String, _ diagnostics: inout [Diagnostic]) -> [ResolvedStep] {
        var out: [ResolvedStep] = []
        for step in steps {
            if step.action == "run", let command = step.command {
                let content = StepContent(action: "run", command: command.raw, params: [:])
                out.append(ResolvedStep(title: "run \(command.raw.prefix(40))", action: "run", command: command, params: [:],
                                        stdinFile: nil, hash: ContentHash.of(content), location: step.location,
                                        perInstance: ResolvedStep.isPerInstance(command.references)))
                continue
            }
            guard let action = actions[step.action] else {
                let names = actions.keys.sorted() + ["run"]
                diagnostics.append(Diagnostic(step.location, "unknown action '\(step.action)'\(didYouMean(step.action, among: names)); "
                                                  + "this image offers: \(names.joined(separator: ", "))"))
                continue
            }
            var params: [String: Template] = [:]
            var ok = true
            for p in step.params {
                guard action.params.contains(where: { $0.name == p.name }) else {
                    let names = action.params.map(\.name)
                    diagnostics.append(Diagnostic(p.location, "action '\(action.name)' has no parameter '\(p.name)'\(didYouMean(p.name, among: names)); "
                                                  + "it takes: \(names.isEmpty ? "none" : names.joined(separator: ", "))"))
                    ok = false
                    continue
                }
                params[p.name] = p.value
                // A literal value is checked now; one with references when the step renders it.
                if p.value.referenceParts.isEmpty, let text = try? p.value.render({ _ in nil }),
                   let problem = action.param(p.name)?.problem(with: text, action: action.name) {
                    diagnostics.append(Diagnostic(p.valueLocation, "\(problem.message): \(problem.rule)"))
                    ok = false
                }
            }
            for p in action.params where params[p.name] == nil {
                if let d = p.defaultValue, case let .success(t) = Template.parse(d) { params[p.name] = t; continue }
                diagnostics.append(Diagnostic(step.location, "action '\(action.name)' needs parameter '\(p.name)'"))
                ok = false
            }
            guard ok else { continue }
            // The stdin file: one step per file; a folder (for `files`) expands to one step per file, in name order.
            var files: [RecipeFile?] = [nil]
            if let stdin = action.stdin, let template = params[stdin] {
                let kindOf = action.params.first { $0.name == stdin }?.kind ?? .file
                let location = step.params.first { $0.name == stdin }?.location ?? step.location
                if !template.references.isEmpty {
                    diagnostics.append(Diagnostic(location, "file parameter '\(stdin)' must be a plain path, without {references}"))
                    continue
                }
                switch Self.recipeFiles(template.raw, folder: kindOf == .files, in: URL(fileURLWithPath: recipeDir)) {
                case let .success(found): files = found.map { Optional($0) }
                case let .failure(problem):
                    diagnostics.append(Diagnostic(location, problem.message(template.raw, parameter: stdin, action: action.name)))
                    continue
                }
            }
            for found in files {
                var fileHash: String?
                var stdinPath: String?
                let file = found?.relative
                if let found {
                    stdinPath = found.real
                    do { fileHash = try ContentHash.of(file: found.real) } catch {
                        diagnostics.append(Diagnostic(step.location, "cannot read 'Recipes/\(found.relative)': "
                                                          + RecipeMessages.unreadable(error)))
                        continue
                    }
                }
                // Titles are printed in plans and logs: a secret shows as `***`.
                var shown = params.filter { $0.key != action.stdin }.sorted { $0.key < $1.key }.map { name, value in
                    "\(name)=\(action.param(name)?.kind == .secret ? "***" : value.raw)"
                }
                if let file { shown.append(file) }
                let content = StepContent(action: action.name, command: "", params: params.mapValues(\.raw),
                                          stdin: action.stdin, file: file, fileHash: fileHash)
                var stepParams = params
                if let stdin = action.stdin { stepParams[stdin] = nil }
                out.append(ResolvedStep(title: ([action.name] + shown).joined(separator: " "), action: action.name, command: action.run,
                                        params: stepParams, stdinFile: stdinPath, hash: ContentHash.of(content), location: step.location,
                                        perInstance: ResolvedStep.isPerInstance(stepParams.values.flatMap(\.references))))
            }
        }
        _ = kind
        return out
    }
}
