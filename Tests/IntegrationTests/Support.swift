import Foundation
import Testing

/// The built `sandbox` binary, as `Scripts/test` passes it (or found next to the test bundle).
enum Binary {
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["SANDBOX_BIN"] { return p }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/sandbox").path
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

struct RunResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Parsed JSON lines of stdout.
    var events: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    var result: [String: Any]? { events.last { $0["event"] as? String == "result" } }
}

/// Runs a program to completion with a deadline; output is collected from files so large output never blocks.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:],
                timeout: TimeInterval = 600) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path.hasPrefix("/") ? path : "/usr/bin/env")
    process.arguments = path.hasPrefix("/") ? arguments : [path] + arguments
    if let cwd { process.currentDirectoryURL = cwd }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    // Foundation's Process keeps the handles it was given alive, so the parent's copies are
    // closed here: a test that runs thousands of programs would otherwise run out of fds
    // (and Process.run crashed reading /proc/self/fd at ~1350 of them).
    let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
    defer { try? outHandle.close(); try? errHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    if done.wait(timeout: .now() + timeout) == .timedOut {
        process.interrupt()
        kill(process.processIdentifier, SIGKILL)
        // Foundation learns of the exit when every copy of its socket to the child is closed: a daemon the program
        // started and left holding it keeps that from ever happening, so this wait has a deadline too.
        let reaped = done.wait(timeout: .now() + 10) == .success
        Issue.record("""
            \(path) \(arguments) did not finish within \(timeout)s\
            \(reaped ? "" : ", and its end was never reported (a process it started holds its descriptors)")
            """)
        if !reaped {
            return RunResult(status: -1, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        }
    }
    return RunResult(status: process.terminationStatus,
                     stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// A copy of the repository's demo recipes in a scratch checkout, with every instance and
/// docker object it made removed at the end (containers by the checkout's label).
final class DemoCheckout: @unchecked Sendable {
    let root: URL
    private let lock = NSLock()
    private var used: Set<String> = []
    var instances: Set<String> { lock.withLock { used } }

    /// The demo; with `application` false (what most tests need) its databases only, without the cache and the web
    /// application, which take seconds more to build and start and that the tests of the application cover; with
    /// `leases` false, without the lease servers, which double the database servers and which LeaseTests cover.
    init(application: Bool = false, leases: Bool = false) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-it-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Binary.repoRoot.appendingPathComponent("Recipes"), to: root.appendingPathComponent("Recipes"))
        if application {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("Images"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Binary.repoRoot.appendingPathComponent("Images/bookmarker.yml"),
                                             to: root.appendingPathComponent("Images/bookmarker.yml"))
        }
        let demo = try String(contentsOf: root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        try write("Recipes/demo.yml", application ? (leases ? demo : Self.withoutLeases(demo)) : Self.databasesOnly(demo, leases: leases))
    }

    /// The demo recipe without its cache and application: the services from `cache:` up to `env:`, and the variables
    /// that name them; without its lease servers unless `leases`.
    static func databasesOnly(_ demo: String, leases: Bool = false) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in demo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "  cache:" { skipping = true }
            if line == "env:" { skipping = false }
            if skipping || line.hasPrefix("  BOOKMARKER_URL:") || line.hasPrefix("  CACHE_URL:") { continue }
            out.append(line)
        }
        let databases = out.joined(separator: "\n")
        return leases ? databases : withoutLeases(databases)
    }

    /// The demo recipe without its services' `leases:` (and so without their lease servers).
    static func withoutLeases(_ demo: String) -> String {
        demo.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("    leases:") }.joined(separator: "\n")
    }

    /// A scratch checkout holding only `files` (paths relative to the checkout).
    init(files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-it-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Recipes"), withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    deinit {
        for instance in instances {
            _ = try? runProgram(Binary.path, ["destroy", "--delete-data", "--instance", instance], cwd: root, timeout: 120)
        }
        // Anything left (golden or init containers of an interrupted run) carries this checkout's path label.
        if let ids = try? runProgram("docker", ["ps", "-aq", "--filter", "label=dev.sandbox.checkout-path=\(root.path)"]).stdout,
           !ids.isEmpty {
            _ = try? runProgram("docker", ["rm", "-f"] + ids.split(separator: "\n").map(String.init))
        }
        // And its networks (an engine has about 30 addresses for them by default): each test's checkout leaves none.
        if let names = try? runProgram("docker", ["network", "ls", "-q", "--filter", "label=dev.sandbox.checkout-path=\(root.path)"]).stdout,
           !names.isEmpty {
            _ = try? runProgram("docker", ["network", "rm"] + names.split(separator: "\n").map(String.init))
        }
        // A data store (StoreTests) is mounted on .sandbox/: unmounted, so the folder and its image can go.
        var here = stat(), parent = stat()
        let state = root.appendingPathComponent(".sandbox")
        if stat(state.path, &here) == 0, stat(root.path, &parent) == 0, here.st_dev != parent.st_dev {
            _ = try? runProgram("umount", [state.path])
        }
        try? FileManager.default.removeItem(at: root)
    }

    /// Marks an instance made some other way (through `serve`) for removal at the end.
    func track(_ instance: String) { _ = lock.withLock { used.insert(instance) } }

    @discardableResult
    func sandbox(_ arguments: [String], instance: String = "dev", environment: [String: String] = [:], timeout: TimeInterval = 900) throws -> RunResult {
        _ = lock.withLock { used.insert(instance) }
        return try runProgram(Binary.path, arguments + ["--instance", instance], cwd: root, environment: environment, timeout: timeout)
    }

    func env(_ instance: String = "dev") throws -> [String: String] {
        let r = try sandbox(["env", "--json"], instance: instance)
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: String]) ?? [:]
    }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Container ids of the instance's services, by service.
    func containerIDs(_ instance: String = "dev") throws -> [String: String] {
        let r = try sandbox(["status", "--json"], instance: instance)
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let services = object["services"] as? [[String: Any]] else { return [:] }
        var ids: [String: String] = [:]
        for s in services {
            guard let name = s["service"] as? String, let container = s["container"] as? String else { continue }
            ids[name] = try runProgram("docker", ["inspect", "--format", "{{.Id}}", container]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ids
    }
}

/// Real clients against the published 127.0.0.1 ports.
enum Clients {
    static func psql(_ url: String, _ sql: String) throws -> String {
        let r = try runProgram("psql", [url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout: 60)
        #expect(r.status == 0, "psql failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `mysql://user:pw@host:port/db` split for the mysql client.
    static func mysql(_ url: String, _ sql: String) throws -> String {
        guard let u = URLComponents(string: url), let host = u.host, let port = u.port, let user = u.user, let pw = u.password else {
            Issue.record("bad mysql url \(url)")
            return ""
        }
        let db = String(u.path.dropFirst())
        let r = try runProgram("mysql", ["-h", host, "-P", String(port), "-u", user, "-p\(pw)", "-N", "-B", "-e", sql, db], timeout: 60)
        #expect(r.status == 0, "mysql failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What `Scripts/test-deps` installs for the tests: the venv's Python with its pinned drivers, and the JDBC jars.
enum TestDeps {
    /// `.venv-test/bin/python` in the repository, or nil with the failure recorded (naming the fix).
    static var python: String? {
        let path = Binary.repoRoot.appendingPathComponent(".venv-test/bin/python").path
        return present([path], what: "the test venv's Python")?.first
    }

    /// The PostgreSQL and MariaDB JDBC drivers, as a class path.
    static var jdbcClassPath: String? {
        present(["/usr/share/java/postgresql.jar", "/usr/share/java/mariadb-java-client.jar"], what: "the JDBC drivers")?
            .joined(separator: ":")
    }

    private static func present(_ paths: [String], what: String) -> [String]? {
        let missing = paths.filter { !FileManager.default.fileExists(atPath: $0) }
        guard missing.isEmpty else {
            Issue.record("\(what) (\(missing.joined(separator: ", "))) missing: run Scripts/test-deps (as root or via sudo) first")
            return nil
        }
        return paths
    }
}
