import Foundation
import Testing

/// Input nobody reviewed, against the real engine: recipes and files of a pushed branch, values from CI variables,
/// damaged state, and a flood of requests to `serve`. Each may run what it likes inside its own containers and nothing more.
@Suite(.serialized) struct HostileTests {
    /// Whether `path` exists in the container of `service` of instance dev.
    static func exists(_ checkout: DemoCheckout, _ service: String, _ path: String) throws -> Bool {
        let id = try #require(try checkout.containerIDs()[service])
        return try runProgram("docker", ["exec", id, "test", "-e", path]).status == 0
    }

    @Test func aLinkToAHostFileIsRefusedBeforeAnythingRunsAndItsContentIsNeverShown() throws {
        let checkout = try DemoCheckout()
        let demo = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "file: demo/postgres/seed.sql", with: "file: demo/postgres/shadow.sql"))
        try FileManager.default.createSymbolicLink(atPath: checkout.root.appendingPathComponent("Recipes/demo/postgres/shadow.sql").path,
                                                   withDestinationPath: "/etc/shadow")
        let check = try runProgram(Binary.path, ["check"], cwd: checkout.root)
        let up = try checkout.sandbox(["up"])
        for r in [check, up] {
            #expect(r.status != 0 && (r.stdout + r.stderr).contains("'demo/postgres/shadow.sql' leads outside Recipes/ (to /etc/shadow)"),
                    "\(r.stdout) \(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains("root:"), "a line of /etc/shadow was shown")
        }
        #expect(try checkout.containerIDs().isEmpty, "nothing ran")
        let logs = checkout.root.appendingPathComponent(".sandbox/dev/logs")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? [] {
            #expect(!(try String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)).contains("root:"))
        }
    }

    @Test func valuesFromVariablesNeverBecomeCommandsOptionsOrConnectionStrings() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let marker = "/tmp/pwned-\(UUID().uuidString.prefix(8))"
        let demo = try String(contentsOf: checkout.root.appendingPathComponent("Recipes/demo.yml"), encoding: .utf8)
        // A `run:` step: the value is one word; echo prints it, nothing runs.
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "      - sql: {database: bookmarker, file: demo/postgres/migrations/}",
                                                                          with: "      - sql: {database: bookmarker, file: demo/postgres/migrations/}\n      - run: echo {env.INJ}"))
        let run = try checkout.sandbox(["up"], environment: ["INJ": "x; touch \(marker); echo $(touch \(marker))"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try !Self.exists(checkout, "pg", marker) && !FileManager.default.fileExists(atPath: marker), "the value ran as a command")
        // The sql action's database: an option is refused by its type; a value with an option after a space is a name.
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "      - sql: {database: analytics, file: demo/mariadb/migrations/}",
                                                                          with: "      - sql: {database: \"{env.D}\", file: demo/mariadb/migrations/}"))
        let option = try checkout.sandbox(["up"], environment: ["D": "--execute=system touch \(marker)"])
        #expect(option.status != 0 && option.stderr.contains("is not a valid name for parameter 'database'"), "\(option.stderr)")
        let spaced = try checkout.sandbox(["up"], environment: ["D": "x --execute=CREATE TABLE mysql.pwned(i int)"])
        #expect(spaced.status != 0 && spaced.stderr.contains("step 'sql database={env.D}"), "\(spaced.stderr)")
        let analytics = try #require(try checkout.env()["ANALYTICS_URL"])
        #expect(try Clients.mysql(analytics, "select count(*) from information_schema.tables where table_name = 'pwned'") == "0")
        #expect(try !Self.exists(checkout, "maria", marker))
        // PostgreSQL: a value with `=` is a database's name, never a libpq connection string.
        try checkout.write("Recipes/demo.yml", demo.replacingOccurrences(of: "      - sql: {database: bookmarker, file: demo/postgres/migrations/}",
                                                                          with: "      - sql: {database: \"{env.D}\", file: demo/postgres/migrations/}"))
        let conninfo = try checkout.sandbox(["up"], environment: ["D": "dbname=bookmarker options=-csearch_path=pwned"])
        #expect(conninfo.status != 0 && conninfo.stderr.contains("database \"dbname=bookmarker options=-csearch_path=pwned\" does not exist"),
                "\(conninfo.stderr)")
    }

    @Test func damagedStateIsNamedAndNothingMovesWithoutRepair() throws {
        let checkout = try DemoCheckout()
        #expect(try checkout.sandbox(["up"]).status == 0)
        let env = try checkout.env()
        let state = checkout.root.appendingPathComponent(".sandbox/dev/instance.json")
        for damage in ["", "{\"sandbox\": \"de", "garbage that is not json"] {
            try damage.write(to: state, atomically: true, encoding: .utf8)
            for command in [["up"], ["status"]] {
                let r = try checkout.sandbox(command)
                #expect(r.status != 0 && r.stderr.contains("error: .sandbox/dev/instance.json cannot be read"), "\(command): \(r.stderr)")
                #expect(r.stderr.contains("sandbox up --repair"))
            }
        }
        #expect(try checkout.sandbox(["up", "--repair"]).status == 0)
        #expect(try checkout.env() == env, "the running services kept their ports, every URL stays valid")
        try "{\"passwords\": ".write(to: checkout.root.appendingPathComponent(".sandbox/dev/secrets.json"), atomically: true, encoding: .utf8)
        let secrets = try checkout.sandbox(["up"])
        #expect(secrets.status != 0 && secrets.stderr.contains("error: .sandbox/dev/secrets.json cannot be read (it is cut short)"), "\(secrets.stderr)")
        #expect(try checkout.env() == env, "no password changed")
        // A killed destroy: what plan says is what the next up does.
        try FileManager.default.createDirectory(at: checkout.root.appendingPathComponent(".sandbox/.locks"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: checkout.root.appendingPathComponent(".sandbox/.locks/dev.deleting").path, contents: Data())
        let plan = try checkout.sandbox(["plan", "--json"]), up = try checkout.sandbox(["up", "--json"])
        #expect(PlanTruthTests.planned(plan).first?.contains("FinishDeletion") == true && PlanTruthTests.planned(plan) == PlanTruthTests.done(up),
                "\(PlanTruthTests.planned(plan)) vs \(PlanTruthTests.done(up))")
    }

    /// A flood of authenticated reads while an operation runs: every answer is 200 or 503 with Retry-After, the server
    /// starts no child, and the operation completes. Connections that send half a header are closed after the timeout,
    /// while other clients are served.
    @Test func serveHoldsUnderAFloodAndHalfSentHeaders() throws {
        let checkout = try DemoCheckout(files: ["Images/toy.yml": ErrorTests.toy("toy"), "Recipes/toy.yml": ErrorTests.sandbox("toy", image: "toy")])
        for name in ["a", "b", "c"] { #expect(try checkout.sandbox(["up"], instance: name).status == 0) }
        let serve = try ServeProcess(checkout)
        let children = ChildWatcher(parent: serve.process.processIdentifier)
        let accepted = try serve.request("POST", "/api/v1/instances/d/up")
        let urls = checkout.root.appendingPathComponent("urls.txt")
        try String(repeating: "url = \"\(serve.base)/api/v1/instances\"\noutput = /dev/null\n", count: 600).write(to: urls, atomically: true, encoding: .utf8)
        let flood = try runProgram("curl", ["-s", "--parallel", "--parallel-max", "100", "-K", urls.path, "-H", "Authorization: Bearer \(serve.token)",
                                            "--max-time", "30", "-w", "%{http_code} %header{retry-after}\n"], timeout: 300)
        let answers = flood.stdout.split(separator: "\n").map(String.init)
        #expect(answers.count == 600, "\(answers.count) answers")
        #expect(answers.allSatisfy { $0 == "200 " || $0 == "503 1" }, "\(Set(answers))")
        let op = try serve.finished(try #require(accepted.json["id"] as? String))
        #expect(op["state"] as? String == "succeeded", "\(op)")
        checkout.track("d")
        // Half-sent headers: held open by the client, closed by the server after its idle timeout; a normal request is served meanwhile.
        let port = try #require(URLComponents(string: serve.base)?.port)
        let script = """
        import socket, sys, time
        socks = []
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"GET /api/v1/instances HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAuthorization: Bear")
            socks.append(s)
        print("open", flush=True)
        deadline = time.time() + 30
        for s in socks:
            s.settimeout(max(0.1, deadline - time.time()))
            try:
                if s.recv(1) not in (b"",):
                    pass
            except socket.timeout:
                sys.exit("a half-sent request was still open after 30 s")
        print("closed")
        """
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        slow.arguments = ["-c", script]
        let out = Pipe()
        slow.standardOutput = out
        try slow.run()
        #expect(ReliabilityTests.wait(30) { (try? serve.request("GET", "/api/v1/instances").status) == 200 }, "others are served meanwhile")
        slow.waitUntilExit()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(slow.terminationStatus == 0 && said.contains("closed"), "\(said)")
        #expect(children.stop() == [], "serve started sandbox children")
    }
}
