import Foundation
import Testing

/// SandboxKit's folders are layers, each its own SwiftPM target (Package.swift, docs/architecture.md): a layer imports
/// only the layers before it, so the compiler refuses a cycle. These tests hold what the compiler does not: that
/// every folder is a layer, that a file imports no layer after its own (SwiftPM lets a module see one it was not
/// declared to depend on when it happens to be built first), that the front doors never import Apply, that nothing
/// in the library is `public`, and that each check read real sources.
@Suite struct ArchitectureTests {
    /// Folder and module of each layer, in dependency order.
    static let layers: [(folder: String, module: String)] = [
        ("Base", "SandboxBase"), ("Recipes", "SandboxRecipes"), ("Engine", "SandboxEngine"), ("Host", "SandboxHost"),
        ("Observe", "SandboxObserve"), ("Plan", "SandboxPlan"), ("Output", "SandboxOutput"), ("Apply", "SandboxApply"),
        ("Notify", "SandboxNotify"), ("Operations", "SandboxOperations"), ("Core", "SandboxKit"),
    ]

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var sources: URL { root.appendingPathComponent("Sources") }

    static func files(in directory: URL) throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var found: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "swift" { found.append(url) }
        }
        return found.sorted { $0.path < $1.path }
    }

    /// The `Sandbox…` modules a file imports.
    static func imports(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 2, words[0] == "import", words[1].hasPrefix("Sandbox") else { return nil }
            return String(words[1])
        }
    }

    /// Imports of `text` that a file of layer `index` may not have, as `module` names.
    static func backwardImports(_ text: String, layer index: Int) -> [String] {
        let allowed = Set(layers.prefix(index).map(\.module))
        let known = Set(layers.map(\.module))
        return imports(text).filter { known.contains($0) && !allowed.contains($0) }
    }

    @Test func everyFolderIsALayerAndImportsOnlyTheLayersBeforeIt() throws {
        let library = Self.sources.appendingPathComponent("SandboxKit")
        var violations: [String] = []
        var checked = 0
        var filesPerLayer = Array(repeating: 0, count: Self.layers.count)
        for url in try Self.files(in: library) {
            let relative = String(url.path.dropFirst(library.path.count + 1))
            let folder = relative.split(separator: "/").first.map(String.init) ?? ""
            let index = try #require(Self.layers.firstIndex { $0.folder == folder },
                                     "\(relative) is in a folder that is not a layer: add it to Package.swift, docs/architecture.md and here")
            let text = try String(contentsOf: url, encoding: .utf8)
            filesPerLayer[index] += 1
            checked += Self.imports(text).count
            violations += Self.backwardImports(text, layer: index).map { "\(relative) imports \($0), a layer after its own" }
        }
        #expect(violations == [])
        // A checker that read nothing would pass: every layer holds files, and the library imports its layers often.
        let empty = Self.layers.indices.filter { filesPerLayer[$0] == 0 }.map { Self.layers[$0].folder }
        #expect(empty == [], "no sources found for layers \(empty) under \(library.path)")
        #expect(checked >= 100, "only \(checked) layer imports found under \(library.path): the checker is not reading the library")
    }

    @Test func packageSwiftDeclaresTheSameLayersInTheSameOrder() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let declared = Self.layers.map { layer in manifest.range(of: "(\"\(layer.module)\", \"\(layer.folder)\"")?.lowerBound }
        #expect(!declared.contains(nil), "Package.swift's `layers` must list \(Self.layers.map(\.module))")
        let positions = declared.compactMap { $0 }
        #expect(positions == positions.sorted(), "Package.swift lists the layers in another order than docs/architecture.md")
    }

    @Test func frontDoorsNeverImportApply() throws {
        var violations: [String] = []
        var checked = 0
        for folder in ["sandbox", "SandboxServer"] {
            for url in try Self.files(in: Self.sources.appendingPathComponent(folder)) {
                let imports = Self.imports(try String(contentsOf: url, encoding: .utf8))
                checked += imports.count
                if imports.contains("SandboxApply") { violations.append("\(folder)/\(url.lastPathComponent) imports SandboxApply") }
            }
        }
        #expect(violations == [], "only the core carries out a plan")
        #expect(checked >= 20, "only \(checked) imports found in the front doors: the checker is not reading them")
    }

    @Test func nothingInTheLibraryIsPublic() throws {
        var found: [String] = []
        let files = try Self.files(in: Self.sources.appendingPathComponent("SandboxKit"))
        for url in files {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            for (number, line) in lines.enumerated() where line.trimmingCharacters(in: .whitespaces).hasPrefix("public ") {
                found.append("\(url.lastPathComponent):\(number + 1)")
            }
        }
        #expect(found == [], "types that cross layers are `package`; nothing outside this package uses the library")
        #expect(files.count >= 50)
    }

    @Test func theCheckerSeesABackwardImport() throws {
        // The checker itself must be able to fail: a Host file importing the planner is caught, its own layers are not.
        let host = try #require(Self.layers.firstIndex { $0.folder == "Host" })
        #expect(Self.backwardImports("import Foundation\nimport SandboxBase\nimport SandboxPlan\n", layer: host) == ["SandboxPlan"])
        #expect(Self.backwardImports("import SandboxRecipes\nimport SandboxEngine\n", layer: host) == [])
    }

    @Test func noSourceFileIsOver400LinesOrHasALineOver160Characters() throws {
        var long: [String] = []
        var wide: [String] = []
        let files = try Self.files(in: Self.sources)
        for url in files {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count > 400 { long.append("\(url.lastPathComponent): \(lines.count) lines") }
            for (number, line) in lines.enumerated() where line.count > 160 { wide.append("\(url.lastPathComponent):\(number + 1)") }
        }
        #expect(long == [])
        #expect(wide == [])
        #expect(files.count >= 50, "the line counter found no sources under \(Self.sources.path)")
    }
}
