import Foundation
import Testing
import SandboxRecipes
import SandboxHost

/// Every error code in docs/errors.md that can be triggered without breaking the machine, each checked for its
/// one-line message, its fix, exit status 1 and (where the command has --json) the code in the error event.
/// port-taken, data-dir-not-writable and engine-unreachable mid-`up` are in RecoveryTests.
@Suite(.serialized) struct ErrorTests {
    /// Tiny images on debian:bookworm (no packages), so each failure costs seconds, not a database build.
    static func toy(_ name: String, build: String = "", initStep: String = "echo made > {data}/made",
                    start: String = "sleep infinity", ready: String = "test -f {data}/made", extra: String = "") -> String {
        """
        image: \(name)
        from: debian:bookworm
        \(build.isEmpty ? "" : "build:\n  - run: \(build)")
        service:
          run-as: nobody
          port: 7000
          engine: toy
          version: "1"
          init:
            - \(initStep)
          start: \(start)
          ready: \(ready)
          stop-signal: SIGKILL
        \(extra)
        """
    }

    static func sandbox(_ name: String, image: String, update: String? = nil) -> String {
        """
        sandbox: \(name)
        owner: sbxtest
        services:
          svc:
            image: \(image)
        \(update.map { "    update:\n      - run: \($0)" } ?? "")
        """
    }

    static let files: [String: String] = [
        "Images/toy.yml": toy("toy"),
        "Images/toy-build-fails.yml": toy("toy-build-fails", build: "'echo about to fail; exit 3'"),
        "Images/toy-init-fails.yml": toy("toy-init-fails", initStep: "'echo init broke >&2; exit 7'"),
        "Images/toy-exits.yml": toy("toy-exits", start: "'echo start broke >&2; exit 3'", ready: "'false'"),
        "Images/toy-never-ready.yml": toy("toy-never-ready", ready: "'false'", extra: "  ready-timeout: 2"),
        "Images/toy-from-nowhere.yml": "image: toy-from-nowhere\nfrom: sandbox-test.invalid/nothing:1\n",
        "Images/toy-apt-missing.yml": toy("toy-apt-missing").replacingOccurrences(
            of: "from: debian:bookworm\n", with: "from: debian:bookworm\nbuild:\n  - apt: [sandbox-no-such-package]\n"),
        "Recipes/apt-missing.yml": sandbox("apt-missing", image: "toy-apt-missing"),
        "Recipes/toy.yml": sandbox("toy", image: "toy", update: "'true'"),
        "Recipes/build-fails.yml": sandbox("build-fails", image: "toy-build-fails"),
        "Recipes/init-fails.yml": sandbox("init-fails", image: "toy-init-fails"),
        "Recipes/exits.yml": sandbox("exits", image: "toy-exits"),
        "Recipes/never-ready.yml": sandbox("never-ready", image: "toy-never-ready"),
        "Recipes/step-fails.yml": sandbox("step-fails", image: "toy", update: "'echo step broke >&2; exit 4'"),
        "Recipes/from-nowhere.yml": "sandbox: from-nowhere\nowner: sbxtest\nservices:\n  svc: {image: toy}\n",
    ]

    /// Exit status 1, the message's first line, a fix line, and with --json the code on stdout.
    func expectError(_ r: RunResult, _ code: String, _ message: String, json: Bool = true,
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("error: \(message)"), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("\nfix: "), "no fix in: \(r.stderr)", sourceLocation: sourceLocation)
        if json {
            let event = r.events.last { $0["event"] as? String == "error" }
            #expect(event?["code"] as? String == code, "stdout: \(r.stdout)", sourceLocation: sourceLocation)
            #expect((event?["fix"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        }
    }

    @Test func noRecipes() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-recipes-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        expectError(try runProgram(Binary.path, ["status", "--json"], cwd: empty), "no-recipes",
                    "no Recipes/ folder in \(empty.path) or any folder above it")
        try FileManager.default.createDirectory(at: empty.appendingPathComponent("Recipes"), withIntermediateDirectories: true)
        expectError(try runProgram(Binary.path, ["up", "--json"], cwd: empty), "no-recipes",
                    "Recipes/ in \(empty.path) holds no .yml sandbox recipe")
    }

    @Test func invalidRecipesPrintEveryDiagnosticAndTheCode() throws {
        let checkout = try DemoCheckout(files: ["Recipes/app.yml": "sandbox: app\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    setpu: []\n"])
        let r = try checkout.sandbox(["up", "--json"])
        #expect(r.status == 1)
        #expect(r.stderr == """
        Recipes/app.yml:6:5: error: unknown key 'setpu' in service 'db' (did you mean 'setup'?)
            setpu: []
            ^
        1 error in recipes; fix them and run `sandbox check`

        """)
        let event = try #require(r.events.last)
        #expect(event["event"] as? String == "error" && event["code"] as? String == "invalid-recipes")
        let diagnostics = try #require(event["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 1 && diagnostics[0]["line"] as? Int == 6 && diagnostics[0]["column"] as? Int == 5)
        let check = try runProgram(Binary.path, ["check"], cwd: checkout.root)
        #expect(check.status == 1 && check.stderr.hasPrefix("Recipes/app.yml:6:5: error: unknown key 'setpu'"))
    }

    @Test func unknownAndAmbiguousSandbox() throws {
        let checkout = try DemoCheckout(files: Self.files)
        expectError(try checkout.sandbox(["plan", "--json"]), "ambiguous-sandbox", "Recipes/ holds 8 sandboxes:")
        expectError(try checkout.sandbox(["plan", "toyy", "--json"]), "unknown-sandbox",
                    "no sandbox named 'toyy' in Recipes/ (did you mean 'toy'?)")
    }

    @Test func dockerMissingFailingOrUnreachable() throws {
        let checkout = try DemoCheckout(files: Self.files)
        expectError(try checkout.sandbox(["status", "toy", "--json"], environment: ["SANDBOX_DOCKER": "/nonexistent/docker"]),
                    "docker-missing", "the docker command was not found")
        expectError(try checkout.sandbox(["status", "toy", "--json"], environment: ["SANDBOX_DOCKER": "/bin/false"]),
                    "docker-failed", "`docker ps --all")
        let socket = "/tmp/sandbox-no-engine-\(UUID().uuidString.prefix(8)).sock"
        expectError(try checkout.sandbox(["status", "toy", "--json"], environment: ["DOCKER_HOST": "unix://\(socket)"]),
                    "engine-unreachable", "the Docker engine does not answer (DOCKER_HOST=unix://\(socket))")
    }

    @Test func buildFailedNamesTheStepAndShowsItsOutput() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let r = try checkout.sandbox(["build", "build-fails"])
        expectError(r, "build-failed", "building sbxtest/toy-build-fails:build-fails failed at build step 1 (run: echo about to fail; exit 3)", json: false)
        #expect(r.stderr.contains("  | about to fail"), "\(r.stderr)")
        #expect(r.stderr.contains("fix: fix that step in Images/toy-build-fails.yml"))
    }

    @Test func baseImageUnavailable() throws {
        let checkout = try DemoCheckout(files: Self.files.merging([
            "Recipes/from-nowhere.yml": Self.sandbox("from-nowhere", image: "toy-from-nowhere"),
            "Images/toy-from-nowhere.yml": Self.toy("toy-from-nowhere")
                .replacingOccurrences(of: "from: debian:bookworm", with: "from: sandbox-test.invalid/nothing:1"),
        ]) { $1 })
        let r = try checkout.sandbox(["up", "from-nowhere", "--json"])
        expectError(r, "base-image-unavailable", "base image sandbox-test.invalid/nothing:1 is not here and cannot be pulled")
    }

    @Test func initFailedKeepsNothing() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let r = try checkout.sandbox(["up", "init-fails", "--json"])
        expectError(r, "init-failed", "initialising a data dir for service svc failed")
        #expect(r.stderr.contains("init broke"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/svc").path))
    }

    @Test func aPackageTheMirrorLacksIsNamed() throws {
        let checkout = try DemoCheckout(files: Self.files)
        expectError(try checkout.sandbox(["up", "apt-missing", "--json"]), "build-failed",
                    "building sbxtest/toy-apt-missing:apt-missing failed at build step 1 (apt: sandbox-no-such-package): "
                        + "Unable to locate package sandbox-no-such-package")
    }

    @Test func notReadyWhenTheServiceExitsOrNeverAnswers() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let exits = try checkout.sandbox(["up", "exits", "--json"])
        expectError(exits, "not-ready", "service svc stopped while starting")
        #expect(exits.stderr.contains("  | start broke"), "\(exits.stderr)")
        let never = try checkout.sandbox(["up", "never-ready", "--json"], instance: "slow")
        expectError(never, "not-ready", "service svc did not become ready within 2s")
    }

    @Test func stepFailedShowsTheOutputAndIsRetried() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let r = try checkout.sandbox(["up", "step-fails", "--json"])
        expectError(r, "step-failed", "step 'run echo step broke >&2; exit 4' of service svc failed (exit status 4) at Recipes/step-fails.yml:7")
        #expect(r.stderr.contains("  | step broke"))
        let plan = try checkout.sandbox(["plan", "step-fails"])
        // The step is one every copy shares, so it runs in the golden copy: nothing of the failed attempt is kept,
        // and the next `up` makes the golden copy again.
        #expect(plan.stdout.contains("service:svc, InitGolden updates=1, no set-up data for this recipe yet"), "\(plan.stdout)")
        #expect(!FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/svc").path))
    }

    @Test func dataDirMismatchWhenTheVersionChanges() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let first = try checkout.sandbox(["up", "toy"])
        #expect(first.status == 0, "\(first.stderr)")
        try checkout.write("Images/toy.yml", Self.toy("toy").replacingOccurrences(of: "version: \"1\"", with: "version: \"2\""))
        // A newer version whose recipe names no upgrade route: refused, naming the recipe and both fixes.
        let refused = try checkout.sandbox(["up", "toy", "--json"])
        expectError(refused, "data-dir-mismatch", "service svc: its data dir holds toy 1 data, "
                        + "and image recipe 'toy' (Images/toy.yml) runs 2 but does not say how to upgrade older data")
        #expect(refused.stderr.contains("fix: add 'upgrade' to that recipe's service (docs/recipes.md, \"Upgrades\"), "
                                        + "or put the recipe back on toy 1"), "\(refused.stderr)")
        // Another engine is refused the same way, whatever the version.
        try checkout.write("Images/toy.yml", Self.toy("toy").replacingOccurrences(of: "engine: toy", with: "engine: other"))
        expectError(try checkout.sandbox(["up", "toy", "--json"]), "data-dir-mismatch",
                    "service svc: its data dir .sandbox/dev/svc was made by toy 1, but the recipe now runs other 1")
        #expect(FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/dev/svc/made").path), "data kept")
    }

    @Test func instanceBusyWithNoWait() throws {
        let checkout = try DemoCheckout(files: Self.files)
        let held = try #require(try FileLock.attempt(checkout.root.appendingPathComponent(".sandbox/.locks/dev.lock")))
        expectError(try checkout.sandbox(["up", "toy", "--no-wait", "--json"]), "instance-busy",
                    "another `sandbox` command is working on instance 'dev'")
        _ = held
    }

    @Test func anInstanceNeverMixesSandboxes() throws {
        let checkout = try DemoCheckout(files: Self.files)
        #expect(try checkout.sandbox(["up", "toy"], instance: "n1").status == 0)
        // Another sandbox of the checkout with a service of the same name: refused before anything is touched.
        let other = try checkout.sandbox(["up", "step-fails", "--json"], instance: "n1")
        expectError(other, "wrong-sandbox", "instance 'n1' belongs to sandbox toy, not step-fails")
        #expect(try checkout.sandbox(["destroy", "step-fails", "--delete-data"], instance: "n1").status == 1)
        // Left out, the sandbox is the instance's own, though the checkout has several.
        let status = try checkout.sandbox(["status", "--json"], instance: "n1")
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.events.first?["sandbox"] as? String == "toy")
        #expect(FileManager.default.fileExists(atPath: checkout.root.appendingPathComponent(".sandbox/n1/svc/made").path))
    }

    @Test func notRunningUnknownServiceAndSnapshots() throws {
        let checkout = try DemoCheckout(files: Self.files)
        expectError(try checkout.sandbox(["exec", "svc", "--sandbox", "toy", "--", "true"]), "not-running",
                    "service svc of instance 'dev' is not running", json: false)
        expectError(try checkout.sandbox(["env", "toy"]), "not-running", "instance 'dev' has not been brought up yet", json: false)
        expectError(try checkout.sandbox(["logs", "svx", "--sandbox", "toy"]), "unknown-service",
                    "sandbox toy has no service 'svx' (did you mean 'svc'?)", json: false)
        expectError(try checkout.sandbox(["snapshot", "restore", "nope", "--sandbox", "toy"]), "no-such-snapshot",
                    "instance 'dev' has no snapshot 'nope'", json: false)
        expectError(try checkout.sandbox(["snapshot", "save", "a b", "--sandbox", "toy"]), "invalid-name",
                    "'a b' is not a usable snapshot name", json: false)
        expectError(try checkout.sandbox(["status", "toy"], instance: "golden"), "invalid-name",
                    "'golden' is not a usable instance name", json: false)
    }
}
