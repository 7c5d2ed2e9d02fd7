import Foundation
import Testing

/// `sandbox gc` after three versions of a recipe: exactly the two older versions' golden copies and images go, while
/// the instance keeps running on the newest, and nothing else of the checkout is touched.
@Suite(.serialized) struct GCTests {
    static func image(_ version: Int) -> String {
        ErrorTests.toy("toy-gc", build: "echo v\(version) > /etc/toy-gc-version")
    }

    static func imageID() throws -> String {
        try runProgram("docker", ["image", "inspect", "--format", "{{.Id}}", "sbxtest/toy-gc:gc"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "sha256:", with: "")
    }

    static func gc(_ checkout: DemoCheckout, _ arguments: [String]) throws -> (items: [[String: Any]], result: RunResult) {
        let r = try runProgram(Binary.path, ["gc", "--json"] + arguments, cwd: checkout.root, timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let result = try #require(r.events.last)
        return ((result["items"] as? [[String: Any]]) ?? [], r)
    }

    @Test func threeVersionsLaterTheTwoOlderOnesGoAndTheRunningInstanceStays() throws {
        let checkout = try DemoCheckout(files: ["Images/toy-gc.yml": Self.image(1), "Recipes/gc.yml": ErrorTests.sandbox("gc", image: "toy-gc")])
        var images: [String] = [], goldens: [[String]] = []
        let golden = checkout.root.appendingPathComponent(".sandbox/golden")
        for version in 1...3 {
            if version > 1 { try checkout.write("Images/toy-gc.yml", Self.image(version)) }
            #expect(try checkout.sandbox(["up"]).status == 0)
            // A reset copies from (and so makes) the golden copy of this version.
            #expect(try checkout.sandbox(["reset"]).status == 0)
            images.append(try Self.imageID())
            goldens.append(try FileManager.default.contentsOfDirectory(atPath: golden.path).filter { !$0.hasPrefix(".") }.sorted())
        }
        #expect(Set(images).count == 3 && goldens.map(\.count) == [1, 2, 3], "\(images) \(goldens)")
        let current = goldens[2].first { !goldens[1].contains($0) }

        let (listed, _) = try Self.gc(checkout, ["--dry-run"])
        let listedGolden = Set(listed.filter { $0["kind"] as? String == "golden" }.compactMap { $0["name"] as? String })
        let listedImages = Set(listed.filter { $0["kind"] as? String == "image" }.compactMap { $0["name"] as? String })
        #expect(listedGolden == Set(goldens[1]), "exactly the two older golden copies: \(listedGolden)")
        // The engine is shared: other checkouts' leftovers may be listed too, but these two are, and the current one is not.
        #expect(listedImages.isSuperset(of: images.prefix(2).map { String($0.prefix(12)) }), "\(listedImages)")
        #expect(!listedImages.contains(String(images[2].prefix(12))))
        #expect(listed.allSatisfy { $0["removed"] as? Bool == false })
        // This checkout's four free space; another's leftover may free none (an image that differs from the one that took
        // its tag only in its labels has no layer of its own).
        let ours = listed.filter { item in
            let name = item["name"] as? String ?? ""
            return item["kind"] as? String == "golden" ? goldens[1].contains(name) : images.prefix(2).contains { $0.hasPrefix(name) }
        }
        #expect(ours.count == 4 && ours.allSatisfy { ($0["bytes"] as? Int ?? 0) > 0 }, "\(ours)")
        #expect(FileManager.default.fileExists(atPath: golden.appendingPathComponent(goldens[1][0]).path), "a dry run removes nothing")

        let (removed, _) = try Self.gc(checkout, [])
        #expect(removed.filter { $0["removed"] as? Bool == true }.count >= 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: golden.path).filter { !$0.hasPrefix(".") } == [current].compactMap { $0 })
        for old in images.prefix(2) {
            #expect(try runProgram("docker", ["image", "inspect", old]).status != 0, "image \(old.prefix(12)) is gone")
        }
        let status = try checkout.sandbox(["status", "--json"])
        #expect(status.stdout.contains("\"state\":\"running\""), "\(status.stdout)")
        let again = try checkout.sandbox(["up", "--json"])
        #expect(again.status == 0 && (again.events.last?["changed"] as? Bool) == false, "the next up has nothing to do: \(again.stdout.suffix(400))")
        let (nothing, r) = try Self.gc(checkout, ["--dry-run"])
        #expect(!nothing.contains { $0["kind"] as? String == "golden" }, "\(r.stdout)")
    }

    @Test func recipesWithErrorsStopGCBeforeItRemovesAnything() throws {
        let checkout = try DemoCheckout(files: ["Recipes/gc.yml": "sandbox: gc\nowner: sbxtest\nservices:\n  svc: {image: no-such-image}\n"])
        try FileManager.default.createDirectory(at: checkout.root.appendingPathComponent(".sandbox/golden/svc-0123456789abcdef"),
                                                withIntermediateDirectories: true)
        let r = try runProgram(Binary.path, ["gc"], cwd: checkout.root, timeout: 120)
        #expect(r.status != 0 && r.stderr.contains("no image recipe 'no-such-image'"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/golden/svc-0123456789abcdef").path))
    }
}
