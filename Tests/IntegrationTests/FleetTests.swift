import Crypto
import Foundation
import SandboxBase
import Testing

/// A fleet (docs/fleet.md): one checkout pushes images and golden data to a registry on this machine; a fresh
/// worker (a second, empty engine: Scripts/second-engine) pulls them instead of building and initialising.
/// Needs root (a second dockerd); CI runs as root.
@Suite(.serialized) struct FleetTests {
    static let scripts = Binary.repoRoot.appendingPathComponent("Scripts")

    /// Relative path, size and SHA-256 of every file under `folder` but readiness marks: what "the same data" means.
    static func digest(_ folder: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: folder.path)
        while let relative = walker?.nextObject() as? String {
            let url = folder.appendingPathComponent(relative)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
                  !relative.hasSuffix(".sandbox-ready") else { continue }
            let data = try Data(contentsOf: url)
            result[relative] = "\(data.count) " + Formatting.hex(SHA256.hash(data: data))
        }
        return result
    }

    static func golden(_ checkout: DemoCheckout, _ service: String) throws -> URL {
        let root = checkout.root.appendingPathComponent(".sandbox/golden")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: root.path).first { $0.hasPrefix("\(service)-") && !$0.hasPrefix(".") })
        return root.appendingPathComponent(name)
    }

    @Test func aFreshWorkerPullsImagesAndGoldenDataInsteadOfBuildingAndInitialising() throws {
        try #require(geteuid() == 0, "a second Docker engine needs root; run the integration tests as root, as CI does")
        let registryUp = try runProgram(Self.scripts.appendingPathComponent("registry-up").path, ["5000"], timeout: 300)
        try #require(registryUp.status == 0, "registry-up: \(registryUp.stderr)")
        let registry = "127.0.0.1:5000"
        // A fresh worker: the second engine with nothing in it.
        _ = try runProgram(Self.scripts.appendingPathComponent("second-engine").path, ["purge"], timeout: 120)
        let engine = try runProgram(Self.scripts.appendingPathComponent("second-engine").path, ["up"], timeout: 120)
        try #require(engine.status == 0, "second-engine: \(engine.stderr)")
        let host = try #require(engine.stdout.split(separator: "\n").last.map { String($0.dropFirst("export DOCKER_HOST=".count)) })
        let worker = ["DOCKER_HOST": host]
        defer { _ = try? runProgram(Self.scripts.appendingPathComponent("second-engine").path, ["down"], timeout: 120) }
        #expect(try runProgram("docker", ["images", "-q"], environment: worker).stdout.isEmpty, "the second engine starts empty")

        // One checkout builds, initialises and pushes.
        let builder = try DemoCheckout()
        let pushed = try builder.sandbox(["push", "--registry", registry, "--json"])
        try #require(pushed.status == 0, "push: \(pushed.stderr)")
        let references = (try? JSONSerialization.jsonObject(
            with: Data((pushed.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])?["pushed"] as? [String] ?? []
        #expect(references.filter { $0.contains("-golden-") }.count == 2 && references.count == 6, "\(references)")

        // A fresh clone on the fresh worker: the plan pulls, and neither builds, bootstraps nor initialises.
        let shard = try DemoCheckout()
        defer { _ = try? shard.sandbox(["destroy", "--delete-data"], environment: worker) }
        let plan = try shard.sandbox(["plan", "--registry", registry], environment: worker)
        #expect(plan.status == 0, "\(plan.stderr)")
        for wanted in ["PullImage", "PullGolden"] { #expect(plan.stdout.contains(wanted), "plan lacks \(wanted):\n\(plan.stdout)") }
        for unwanted in ["Build", "EnsureBaseImage", "InitGolden"] { #expect(!plan.stdout.contains(unwanted), "plan has \(unwanted):\n\(plan.stdout)") }
        let up = try shard.sandbox(["up", "--registry", registry], environment: worker)
        try #require(up.status == 0, "up --registry: \(up.stderr)")
        #expect(try runProgram("docker", ["ps", "-q", "--filter", "label=dev.sandbox.checkout-path=\(shard.root.path)"], environment: worker)
            .stdout.split(separator: "\n").count == 2, "the shard runs on the second engine")

        // The shard's data is what the builder's golden copy holds, file for file; clients reach it on 127.0.0.1.
        for service in ["pg", "maria"] {
            #expect(try Self.digest(Self.golden(shard, service)) == Self.digest(Self.golden(builder, service)), "\(service): the pulled golden data differs")
        }
        let url = try #require(try shard.sandbox(["env", "--json"], environment: worker).stdout
            .data(using: .utf8).flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: String] }?["DATABASE_URL"])
        #expect(try Clients.psql(url, "select count(*) from bookmarks") == "3")
        #expect(try Clients.psql(url, "select count(*) from information_schema.columns where column_name = 'tags'") == "1",
                "the update step came with the golden data")

        // The shard's data dirs are the second engine's: the first engine is refused them.
        let elsewhere = try shard.sandbox(["up"])
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("lives on the engine unix://") && elsewhere.stderr.contains("fix: run it with DOCKER_HOST="),
                "\(elsewhere.stderr)")
        #expect(try runProgram("docker", ["ps", "-aq", "--filter", "label=dev.sandbox.checkout-path=\(shard.root.path)"]).stdout.isEmpty,
                "nothing of the shard started on the first engine")

        // A registry that does not answer: the plan says so and makes everything here instead.
        let offline = try DemoCheckout()
        let fallback = try offline.sandbox(["plan", "--registry", "127.0.0.1:1"], environment: worker)
        #expect(fallback.status == 0 && fallback.stdout.contains("InitGolden") && !fallback.stdout.contains("PullGolden"),
                "\(fallback.stdout)\(fallback.stderr)")
    }
}
