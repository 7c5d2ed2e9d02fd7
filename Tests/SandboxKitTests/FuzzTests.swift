import Foundation
import Testing
@testable import SandboxRecipes

/// Deterministic pseudo-random numbers (SplitMix64): the same seed gives the same recipes on every run.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Mutated recipes fed to the interpreter: it never crashes or hangs, and every rejection points at a line and column.
@Suite struct FuzzTests {
    static let tokens = [
        "{", "}", "[", "]", ":", ": ", "- ", "\t", "  ", "\n", "'", "\"", "#", "&a", "*a", "!!int ", "|", ">-", "{{", "}}",
        "{db.port}", "{pg.pasword}", "{instance", "{env.X:-y}", "image", "setup", "update", "services", "sql", "file",
        "create-database", "from", "build", "service", "start", "ready", "port", "70000", "-1", "null", "~", "true",
        "demo/postgres/missing.sql", "../../etc/passwd", "\u{00E9}", "\u{FEFF}", "\r", "? ", "%YAML 1.2\n", "---\n", "...\n",
    ]

    /// One random edit: a character, a token, a line dropped, doubled, swapped or re-indented, or a cut.
    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch rng.below(8) {
        case 0 where lines.count > 1:
            lines.remove(at: rng.below(lines.count))
        case 1:
            let i = rng.below(lines.count)
            lines.insert(lines[i], at: i)
        case 2 where lines.count > 1:
            lines.swapAt(rng.below(lines.count), rng.below(lines.count))
        case 3:
            let i = rng.below(lines.count)
            lines[i] = rng.below(2) == 0 ? "  " + lines[i] : String(lines[i].drop { $0 == " " }.prefix(lines[i].count))
        case 4:
            var scalars = Array(text.unicodeScalars)
            let at = rng.below(scalars.count + 1)
            scalars.insert(contentsOf: rng.pick(tokens).unicodeScalars, at: at)
            return String(String.UnicodeScalarView(scalars))
        case 5:
            var scalars = Array(text.unicodeScalars)
            guard !scalars.isEmpty else { return text }
            let at = rng.below(scalars.count)
            scalars.removeSubrange(at..<min(scalars.count, at + 1 + rng.below(12)))
            return String(String.UnicodeScalarView(scalars))
        case 6:
            // Replace one word with a token.
            let i = rng.below(lines.count)
            var words = lines[i].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if !words.isEmpty { words[rng.below(words.count)] = rng.pick(tokens) }
            lines[i] = words.joined(separator: " ")
        default:
            return String(text.prefix(rng.below(text.count + 1)))
        }
        return lines.joined(separator: "\n")
    }

    /// Reads a mutated sandbox recipe and, when it is an image recipe's turn, a mutated image recipe,
    /// then resolves: the same path `sandbox check` takes. Returns the diagnostics and whether it was accepted.
    static func interpret(sandbox: String, image: String?, base: RecipeSet) -> (accepted: Bool, diagnostics: [Diagnostic]) {
        var set = base
        var diagnostics: [Diagnostic] = []
        if let image {
            let reader = YAMLReader(path: "Images/postgresql-15.yml", source: image)
            if let recipe = ImageRecipe.parse(reader, directory: base.checkout.imagesDirectory.path), recipe.name == "postgresql-15" {
                set.images[recipe.name] = recipe
            } else {
                set.images["postgresql-15"] = nil
            }
            diagnostics += reader.diagnostics
        }
        let reader = YAMLReader(path: "Recipes/demo.yml", source: sandbox)
        let recipe = SandboxRecipe.parse(reader)
        diagnostics += reader.diagnostics
        guard let recipe else { return (false, diagnostics) }
        do {
            _ = try Resolver(set).resolve(recipe)
            return (diagnostics.isEmpty, diagnostics)
        } catch {
            return (false, diagnostics + error.diagnostics)
        }
    }

    @Test func fourThousandMutatedRecipesAreEachAcceptedOrRejectedWithALocation() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let demo = try String(contentsOf: root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        let pgImage = try String(contentsOf: root.appendingPathComponent("Images/postgresql-15.yml"), encoding: .utf8)
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        // The demo's SQL files, so unmutated references resolve.
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("Recipes"))
        try FileManager.default.copyItem(at: root.appendingPathComponent("Recipes"), to: fixture.root.appendingPathComponent("Recipes"))
        try FileManager.default.createDirectory(at: fixture.root.appendingPathComponent("Images"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("Images/bookmarker.yml"), to: fixture.root.appendingPathComponent("Images/bookmarker.yml"))
        let base = try fixture.set()
        #expect(Self.interpret(sandbox: demo, image: pgImage, base: base).accepted, "the unmutated demo must be accepted")

        // Four lanes of 1,000, each from its own seed, so the cores share the work; the runs are the same every time.
        let runs = 4_000, lanes = 4
        let counts = await withTaskGroup(of: (accepted: Int, rejected: Int).self) { group in
            for lane in 0..<lanes {
                group.addTask { Self.fuzz(runs: lane * runs / lanes..<(lane + 1) * runs / lanes, seed: 0x5A4D_B0C5 &+ UInt64(lane), demo: demo, pgImage: pgImage, base: base) }
            }
            return await group.reduce(into: (accepted: 0, rejected: 0)) { $0.accepted += $1.accepted; $0.rejected += $1.rejected }
        }
        let accepted = counts.accepted, rejected = counts.rejected
        #expect(accepted + rejected == runs)
        // Both outcomes are exercised, so neither path goes untested.
        #expect(accepted > runs / 50 && rejected > runs / 2, "accepted \(accepted), rejected \(rejected)")
    }

    static func fuzz(runs: Range<Int>, seed: UInt64, demo: String, pgImage: String, base: RecipeSet) -> (accepted: Int, rejected: Int) {
        var rng = SplitMix64(state: seed)
        var accepted = 0, rejected = 0
        for run in runs {
            let mutateImage = run % 4 == 3
            var sandbox = demo, image = pgImage
            for _ in 0..<(1 + rng.below(3)) {
                if mutateImage { image = Self.mutate(image, &rng) } else { sandbox = Self.mutate(sandbox, &rng) }
            }
            let result = Self.interpret(sandbox: sandbox, image: mutateImage ? image : nil, base: base)
            if result.accepted { accepted += 1; continue }
            rejected += 1
            if result.diagnostics.isEmpty {
                Issue.record("run \(run): rejected with no diagnostic:\n\(mutateImage ? image : sandbox)")
                continue
            }
            for d in result.diagnostics {
                let text = d.location.path.hasPrefix("Images/") ? image : sandbox
                let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
                if d.location.line < 1 || d.location.column < 1 || d.location.line > lineCount + 1 || d.message.isEmpty {
                    Issue.record("run \(run): \(d) is outside the file (\(lineCount) lines)")
                }
                _ = d.rendered(source: text)
            }
        }
        return (accepted, rejected)
    }
}
