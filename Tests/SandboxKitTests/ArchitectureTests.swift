import Foundation
import Testing

/// The library's folders are layers that depend one way (docs/architecture.md):
/// a file may name the types of its own folder and of the folders before it, never of one after it.
@Suite struct ArchitectureTests {
    static let layers = ["", "Recipes", "Engine", "Host", "Observe", "Plan", "Output", "Apply", "Notify", "Operations", "Core"]

    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
    }

    struct SourceFile {
        var path: String
        var layer: Int
        var text: String
    }

    static func files(in directory: URL) throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var found: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "swift" { found.append(url) }
        }
        return found.sorted { $0.path < $1.path }
    }

    static func libraryFiles() throws -> [SourceFile] {
        let root = sources.appendingPathComponent("SandboxKit")
        return try files(in: root).map { url in
            let relative = String(url.path.dropFirst(root.path.count + 1))
            let folder = relative.contains("/") ? String(relative.split(separator: "/")[0]) : ""
            let layer = try #require(layers.firstIndex(of: folder), "\(relative) is in a folder that is not a layer: add it to docs/architecture.md and here")
            return SourceFile(path: relative, layer: layer, text: code(try String(contentsOf: url, encoding: .utf8)))
        }
    }

    /// The code of a file without comments and string literals (so a word in a message is not a dependency).
    static func code(_ text: String) -> String {
        var out: [String] = []
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            // Multi-line string literals: skipped from the line that opens one to the line that closes it.
            let quotes = String(line).components(separatedBy: "\"\"\"").count - 1
            if inBlock {
                if quotes % 2 == 1 { inBlock = false }
                continue
            }
            if quotes % 2 == 1 {
                out.append(String(line).components(separatedBy: "\"\"\"")[0])
                inBlock = true
                continue
            }
            var s = String(line).replacingOccurrences(of: #""(?:[^"\\]|\\.)*""#, with: "\"\"", options: .regularExpression)
            if let r = s.range(of: "//") { s = String(s[..<r.lowerBound]) }
            out.append(s)
        }
        return out.joined(separator: "\n")
    }

    /// Top-level types and functions a file declares.
    static func declarations(_ code: String) -> [String] {
        let pattern = #"(?m)^(?:public |internal |final |private |fileprivate )*(?:struct|enum|class|protocol|actor|typealias|func) +([A-Za-z_][A-Za-z0-9_]*)"#
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: code, range: NSRange(code.startIndex..., in: code)).compactMap {
            Range($0.range(at: 1), in: code).map { String(code[$0]) }
        }
    }

    static func words(_ code: String) -> Set<String> {
        Set(code.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
    }

    @Test func foldersDependOneWay() throws {
        let files = try Self.libraryFiles()
        // A checker that read nothing would pass: every layer must hold files, and they must declare types.
        let empty = Self.layers.indices.filter { layer in !files.contains { $0.layer == layer } }.map { Self.layers[$0] }
        #expect(empty == [], "no sources found for layers \(empty) under \(Self.sources.path)")
        #expect(files.count >= 50 && files.reduce(0) { $0 + Self.declarations($1.text).count } >= 100,
                "\(files.count) files found under \(Self.sources.path): the checker is not reading the library")
        var owner: [String: (layer: Int, path: String)] = [:]
        for file in files { for name in Self.declarations(file.text) { owner[name] = (file.layer, file.path) } }
        var violations: [String] = []
        for file in files {
            for word in Self.words(file.text).sorted() {
                guard let decl = owner[word], decl.layer > file.layer else { continue }
                violations.append("\(file.path) names \(word) from \(decl.path)")
            }
        }
        #expect(violations == [], "\(violations.joined(separator: "\n"))")
    }

    @Test func theCheckerSeesABackwardReference() throws {
        // The checker itself must be able to fail: a Host file naming a Plan type is caught.
        let host = Self.code("struct Layout {\n    var plan: Plan // Planner in a comment\n    let s = \"Executor\"\n}")
        let declared = Self.declarations("public struct Plan: Sendable {}\nstruct Executor {}")
        #expect(declared == ["Plan", "Executor"])
        #expect(Self.words(host).intersection(declared) == ["Plan"])
    }

    @Test func noSourceFileIsOver400Lines() throws {
        var long: [String] = []
        for url in try Self.files(in: Self.sources) {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count
            if lines > 400 { long.append("\(url.lastPathComponent): \(lines) lines") }
        }
        #expect(long == [])
        #expect(try Self.files(in: Self.sources).count >= 50, "the line counter found no sources under \(Self.sources.path)")
    }
}
