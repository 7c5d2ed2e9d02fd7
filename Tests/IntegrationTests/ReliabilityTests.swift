import Foundation
import Testing
import SandboxHost

/// Regression tests for failures found from outside: kills, races, damage, a full disk, secrets in sight.
@Suite(.serialized) struct ReliabilityTests {
    static func start(_ checkout: DemoCheckout, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments
        process.currentDirectoryURL = checkout.root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits for `condition` (a condition with a deadline); false when the deadline passed.
    static func wait(_ seconds: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }

    static func processes(mentioning text: String) throws -> [String] {
        try runProgram("ps", ["-eo", "args"]).stdout.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }

    @Test func aKilledCopyLeavesNoChildRunningAndTheNextUpConverges() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let staging = checkout.root.appendingPathComponent(".sandbox/two/.pg.staging")
        let up = try Self.start(checkout, ["up", "--instance", "two"])
        #expect(try Self.wait(120) { FileManager.default.fileExists(atPath: staging.path) || !up.isRunning }, "the copy never started")
        kill(up.processIdentifier, SIGKILL)
        up.waitUntilExit()
        // The copy dies with sandbox: nothing goes on writing into the folder the next command cleans up.
        let gone = try Self.wait(5) { try Self.processes(mentioning: checkout.root.path).filter { $0.hasPrefix("cp ") }.isEmpty }
        #expect(gone, "a copy outlived sandbox: \((try? Self.processes(mentioning: checkout.root.path)) ?? [])")
        let again = try checkout.sandbox(["up"], instance: "two")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Clients.psql(try #require(try checkout.env("two")["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
        let left = try FileManager.default.contentsOfDirectory(atPath: checkout.root.appendingPathComponent(".sandbox/two").path)
        #expect(left.filter { $0.hasPrefix(".") }.isEmpty, "leftovers: \(left)")
    }

    @Test func destroyRacingUpNeverLeavesContainersWithoutTheirData() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        for round in 1...3 {
            let up = try Self.start(checkout, ["up", "--instance", "race"])
            let destroy = try Self.start(checkout, ["destroy", "--delete-data", "--instance", "race"])
            up.waitUntilExit()
            destroy.waitUntilExit()
            #expect(up.terminationStatus == 0 && destroy.terminationStatus == 0, "round \(round)")
            let running = try runProgram("docker", ["ps", "-q", "--filter", "label=dev.sandbox.checkout-path=\(checkout.root.path)",
                                                    "--filter", "label=dev.sandbox.instance=race"]).stdout.split(separator: "\n")
            let data = checkout.root.appendingPathComponent(".sandbox/race/pg/.sandbox-data.json")
            // Whichever ran second decided: either a whole instance, or none at all.
            #expect(running.isEmpty != FileManager.default.fileExists(atPath: data.path),
                    "round \(round): \(running.count) containers, data \(FileManager.default.fileExists(atPath: data.path))")
            // The lock file goes with a deleted instance (`destroy --delete-data` removes it), and stays with one that is there.
            let lock = checkout.root.appendingPathComponent(".sandbox/.locks/race.lock")
            #expect(!FileManager.default.fileExists(atPath: data.path) || FileManager.default.fileExists(atPath: lock.path), "round \(round)")
            _ = try checkout.sandbox(["destroy", "--delete-data"], instance: "race")
        }
    }

    @Test func passwordsAppearInNoProcessListAndNoContainerConfiguration() throws {
        let checkout = try DemoCheckout()
        let up = try Self.start(checkout, ["up", "--instance", "dev"])
        var samples: [String] = []
        for _ in 0..<6000 where up.isRunning {
            samples.append(try runProgram("ps", ["-eo", "args"]).stdout)
        }
        up.waitUntilExit()
        #expect(up.terminationStatus == 0)
        #expect(samples.count > 10, "too few samples of the process list")
        var secrets: [String] = []
        let golden = checkout.root.appendingPathComponent(".sandbox/golden")
        for name in try FileManager.default.contentsOfDirectory(atPath: golden.path) where !name.hasPrefix(".") {
            if let stamp = DataStamp.read(from: golden.appendingPathComponent(name)), let pw = stamp.password { secrets.append(pw) }
        }
        let instance = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: checkout.root.appendingPathComponent(".sandbox/dev/secrets.json"))) as? [String: Any])
        secrets += ((instance["passwords"] as? [String: String]) ?? [:]).values
        #expect(secrets.count == 4, "the golden and the instance password of each service: \(secrets.count)")
        let inspect = try runProgram("sh", ["-c", "docker inspect $(docker ps -aq --filter label=dev.sandbox.checkout-path=\(checkout.root.path))"]).stdout
        for secret in secrets {
            #expect(!samples.contains { $0.contains(secret) }, "a password was in the process list")
            #expect(!inspect.contains(secret), "a password is in docker inspect")
        }
    }

    @Test func aDamagedStampIsNamedAndResetRepairsIt() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        #expect(try checkout.sandbox(["down"]).status == 0)
        try "{garbage".write(to: checkout.root.appendingPathComponent(".sandbox/dev/pg/.sandbox-data.json"), atomically: true, encoding: .utf8)
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 1)
        #expect(up.stderr.hasPrefix("error: service pg: the data dir .sandbox/dev/pg is damaged: its stamp .sandbox-data.json cannot be read"), "\(up.stderr)")
        #expect(up.events.last?["code"] as? String == "data-dir-damaged")
        #expect(up.stderr.contains("fix: `sandbox reset` replaces it with fresh data"), "\(up.stderr)")
        #expect(try checkout.sandbox(["reset"]).status == 0)
        #expect(try Clients.psql(try #require(try checkout.env()["DATABASE_URL"]), "select count(*) from bookmarks") == "3")
    }

    @Test func downAndDestroyWorkWhileARecipeIsBroken() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        // After a pull that names an image recipe not there yet:
        try checkout.write("Recipes/demo.yml", try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
            .replacingOccurrences(of: "image: mariadb-10.11", with: "image: mariadb-12"))
        #expect(try checkout.sandbox(["up"]).status == 1)
        let down = try checkout.sandbox(["down"])
        #expect(down.status == 0 && down.stdout.hasPrefix("stopped maria, pg; data kept"), "\(down.stdout) \(down.stderr)")
        let destroy = try checkout.sandbox(["destroy", "--delete-data"])
        #expect(destroy.status == 0, "\(destroy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/pg").path))
    }

    /// A full disk: the reset fails with disk-full and the fix, deletes its staged copies (so the disk is not kept
    /// full for the running databases), and leaves the instance running with its data. Needs root (a loop mount).
    @Test(.enabled(if: getuid() == 0)) func aFullDiskFailsClearlyAndLeavesTheInstanceAsItWas() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-disk-\(UUID().uuidString.prefix(8))")
        let image = base.appendingPathExtension("img"), mount = base
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        #expect(try runProgram("truncate", ["-s", "320M", image.path]).status == 0)
        #expect(try runProgram("mkfs.ext4", ["-q", "-F", image.path]).status == 0)
        #expect(try runProgram("mount", ["-o", "loop", image.path, mount.path]).status == 0)
        defer {
            _ = try? runProgram("sh", ["-c", "docker rm -f $(docker ps -aq --filter label=dev.sandbox.checkout-path=\(mount.path)/c) 2>/dev/null"])
            _ = try? runProgram("umount", [mount.path])
            try? FileManager.default.removeItem(at: mount)
            try? FileManager.default.removeItem(at: image)
        }
        let root = mount.appendingPathComponent("c")
        try FileManager.default.copyItem(at: Binary.repoRoot.appendingPathComponent("Recipes"), to: root.appendingPathComponent("Recipes"))
        let demo = root.appendingPathComponent("Recipes/demo.yml")
        try DemoCheckout.databasesOnly(try String(contentsOf: demo, encoding: .utf8)).write(to: demo, atomically: true, encoding: .utf8)
        func sandbox(_ args: [String]) throws -> RunResult { try runProgram(Binary.path, args, cwd: root) }
        #expect(try sandbox(["up"]).status == 0)
        let url = try #require(try JSONSerialization.jsonObject(with: Data(sandbox(["env", "--json"]).stdout.utf8)) as? [String: String])["DATABASE_URL"]
        _ = try Clients.psql(try #require(url), "insert into bookmarks (url, title) values ('kept', 'kept')")
        // Leave about 20 MB: less than a copy of the set-up data.
        let filler = mount.appendingPathComponent("filler")
        var fs = statvfs()
        statvfs(mount.path, &fs)
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        #expect(try runProgram("fallocate", ["-l", String(free - 20 << 20), filler.path]).status == 0)
        let reset = try sandbox(["reset", "--json"])
        #expect(reset.status == 1)
        #expect(reset.events.last?["code"] as? String == "disk-full", "\(reset.stdout) \(reset.stderr)")
        #expect(reset.stderr.contains("the disk is full") && reset.stderr.contains("fix: free space on the disk that holds .sandbox/"), "\(reset.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".sandbox/dev").path)
        #expect(left.filter { $0.hasSuffix(".staging") || $0.hasSuffix(".replaced") }.isEmpty, "staged copies kept the disk full: \(left)")
        #expect(try Clients.psql(try #require(url), "select count(*) from bookmarks where url = 'kept'") == "1", "the instance lost its data")
        try FileManager.default.removeItem(at: filler)
        #expect(try sandbox(["reset"]).status == 0)
        #expect(try Clients.psql(try #require(url), "select count(*) from bookmarks") == "3")
        #expect(try sandbox(["destroy", "--delete-data"]).status == 0)
    }
}
