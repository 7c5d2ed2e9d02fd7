import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxHost
@testable import SandboxObserve
@testable import SandboxPlan

/// Bounded input (sizes, depth, every duplicate), and damaged state named, never guessed.
@Suite struct LimitsAndDamageTests {
    @Test func aRecipeOverTheSizeLimitIsRefusedBeforeItIsRead() throws {
        let fixture = try RecipeFixture(["Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  pg:\n    image: postgresql-15\n"])
        defer { fixture.remove() }
        let big = String(repeating: "x", count: 3 << 20)
        try fixture.write("Recipes/big.yml", "sandbox: big\nowner: acme\nnote: \(big)\n")
        let clock = ContinuousClock()
        let started = clock.now
        let out = try fixture.check()
        #expect(out.contains("Recipes/big.yml:1:1: error: Recipes/big.yml is 3.0 MiB; a recipe file is at most 2 MiB"), "\(out.prefix(300))")
        #expect(out.count < 2_000, "the file's content is not echoed")
        // Not a timing test: one stat, not a parse of megabytes, so it takes no time worth measuring on any machine.
        _ = clock.now - started
    }

    @Test func aLongValueIsRefusedWithoutEchoingItsLine() throws {
        let value = String(repeating: "y", count: RecipeLimits.valueCharacters + 10)
        let out = try diagnose(["Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  pg:\n    image: \(value)\n"])
        #expect(out.hasPrefix("Recipes/shop.yml:5:12: error: a value of 65546 characters; values are at most 65536 characters"), "\(out.prefix(200))")
        let lines = out.split(separator: "\n")
        #expect(lines.count >= 3 && lines[1].count <= RecipeLimits.shownLine + 2, "the line is shown around the caret only")
    }

    @Test func nestingPastTheLimitIsRefusedInTheProjectsWords() throws {
        let deep = "sandbox: shop\nowner: acme\nservices: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
        let out = try diagnose(["Recipes/shop.yml": deep])
        #expect(out.contains("nests mappings and lists") && out.contains("at most \(RecipeLimits.depth) levels deep"), "\(out.prefix(300))")
        #expect(!out.contains("yaml_set_max_nest_level"))
        let deeper = "sandbox: shop\nowner: acme\nservices: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n"
        let out2 = try diagnose(["Recipes/shop.yml": deeper])
        #expect(out2.contains("levels deep") && !out2.contains("yaml_set_max_nest_level") && out2.count < 2_000, "\(out2.prefix(300))")
    }

    @Test func everyDuplicateKeyIsReportedOnce() throws {
        let out = try diagnose(["Recipes/shop.yml": """
        sandbox: shop
        owner: acme
        services:
          pg:
            image: postgresql-15
            image: postgresql-17
          maria:
            image: mariadb-10.11
            port: 1
            port: 2
        owner: other
        env: {A: "1", A: "2"}
        """])
        let errors = out.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors == [
            "Recipes/shop.yml:6:5: error: duplicate key 'image'; each key may appear once in a mapping",
            "Recipes/shop.yml:10:5: error: duplicate key 'port'; each key may appear once in a mapping",
            "Recipes/shop.yml:11:1: error: duplicate key 'owner'; each key may appear once in a mapping",
            "Recipes/shop.yml:12:15: error: duplicate key 'A'; each key may appear once in a mapping",
        ], "\(out)")
        #expect(out.hasSuffix("4 errors in recipes; fix them and run `sandbox check`") || !out.contains("1 error"), "\(out)")
    }

    @Test func anUnreadableStateFileIsNamedAndNeverTakenForANewInstance() throws {
        let fixture = try RecipeFixture([:])
        defer { fixture.remove() }
        let layout = InstanceLayout(checkout: fixture.checkout, instance: "dev")
        try FileSystem.ensureDirectory(layout.root)
        for (content, reason) in [("", "it is empty"), ("{\"sandbox\":\"sh", "it is cut short"), ("[1, 2, 3] and more garbage", "it is not what sandbox wrote")] {
            try Data(content.utf8).write(to: layout.stateFile)
            let error = #expect(throws: SandboxError.self) { _ = try InstanceState.load(layout) }
            #expect(error?.code == .stateDamaged && error?.message.hasPrefix(".sandbox/dev/instance.json cannot be read (\(reason)") == true,
                    "\(String(describing: error))")
            #expect(error?.fix?.contains("sandbox up --repair") == true)
            try Data(content.utf8).write(to: layout.secretsFile)
            #expect(InstanceSecrets.damage(layout)?.message.hasPrefix(".sandbox/dev/secrets.json cannot be read (\(reason)") == true)
            #expect(throws: SandboxError.self) { _ = try InstanceSecrets.password(for: "pg", layout) }
        }
        #expect(FileManager.default.contents(atPath: layout.secretsFile.path) == Data("[1, 2, 3] and more garbage".utf8), "never written over")
    }

    @Test func aLockFileDeletedByItsHolderIsNeverSharedByTwo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("dev.lock")
        let first = try #require(try FileLock.attempt(url))
        #expect(try FileLock.attempt(url) == nil, "held")
        try FileManager.default.removeItem(at: url)
        // The holder deleted it (a destroy): the next one locks a new file, and a third waits for that one.
        let second = try #require(try FileLock.attempt(url))
        #expect(try FileLock.attempt(url) == nil)
        withExtendedLifetime((first, second)) {}
    }
}
