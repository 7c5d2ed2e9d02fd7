import Foundation
import Testing
import SandboxOutput
import SandboxOperations

/// The stock images against the real engine: built once, then confirmed with no build; each initialises an
/// empty mounted data dir, passes its readiness check, answers its real client, and stops cleanly.
@Suite(.serialized) struct ImageTests {
    static let recipe = """
    sandbox: stock
    owner: sbxtest
    services:
      pg: {image: postgresql-15}
      maria: {image: mariadb-10.11}
    """

    @Test func secondBuildRunsNoDockerBuild() async throws {
        let checkout = try DemoCheckout(files: ["Recipes/stock.yml": Self.recipe])
        let first = try checkout.sandbox(["build"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("sbxtest/postgresql-15:stock") && first.stdout.contains("sbxtest/mariadb-10.11:stock"), "\(first.stdout)")
        // The same through the library, counting what it asks the engine.
        let workspace = try Workspace.load(path: checkout.root.path)
        let instance = try workspace.instance(sandbox: nil, instance: "dev")
        _ = try await instance.build(reporter: SilentReporter())
        // The command log holds argv without the program name: exactly one image inspect for every tag, no build.
        #expect(instance.docker.commandLog == ["image inspect --format {{json .}} debian:bookworm sbxtest/postgresql-15:stock sbxtest/mariadb-10.11:stock"],
                "\(instance.docker.commandLog)")
    }

    /// Every stock engine and version: (PostgreSQL image, its major; MariaDB image, its version).
    static let versions = [("postgresql-15", "15", "mariadb-10.11", "10.11"), ("postgresql-17", "17", "mariadb-11.8", "11.8")]

    @Test(arguments: versions)
    func eachStockImageInitialisesBecomesReadyAndStopsCleanly(_ pg: String, _ pgVersion: String, _ maria: String, _ mariaVersion: String) throws {
        let recipe = Self.recipe.replacingOccurrences(of: "postgresql-15", with: pg).replacingOccurrences(of: "mariadb-10.11", with: maria)
        let checkout = try DemoCheckout(files: ["Recipes/stock.yml": recipe])
        let up = try checkout.sandbox(["up", "--json"])
        #expect(up.status == 0, "\(up.stderr)")
        let data = checkout.root.appendingPathComponent(".sandbox/dev")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("pg/main/PG_VERSION").path))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("maria/mysql/mysql").path))
        let services = (up.result?["services"] as? [[String: Any]]) ?? []
        #expect(services.count == 2 && services.allSatisfy { $0["state"] as? String == "running" }, "\(up.stdout)")

        // Real clients through the published 127.0.0.1 ports, as the user the recipe made.
        let status = try checkout.sandbox(["status", "--json", "--show-secrets"])
        let urls = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["services"] as? [[String: Any]])
        let pgURL = try #require(urls.first { $0["service"] as? String == "pg" }?["url"] as? String)
        let mariaURL = try #require(urls.first { $0["service"] as? String == "maria" }?["url"] as? String)
        #expect(try Clients.psql(pgURL, "select current_user") == "sandbox")
        #expect(try Clients.mysql(mariaURL, "select current_user()") == "sandbox@%")
        // The server is the version its recipe names.
        let pgServer = try Clients.psql(pgURL, "show server_version")
        #expect(pgServer.hasPrefix(pgVersion + "."), "\(pg) runs PostgreSQL \(pgServer)")
        let mariaServer = try Clients.mysql(mariaURL, "select version()")
        #expect(mariaServer.hasPrefix(mariaVersion + "."), "\(maria) runs MariaDB \(mariaServer)")
        // The service runs as the database's own user, not root.
        for (service, process, user) in [("pg", "postgres", "postgres"), ("maria", "mariadbd", "mysql")] {
            let owner = try checkout.sandbox(["exec", service, "--", "sh", "-c",
                "for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = \(process) ] && { stat -c %U $p; break; }; done"])
            #expect(owner.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == user, "\(service): \(owner.stdout) \(owner.stderr)")
        }

        // The container's stop signal shuts each database down cleanly (exit status 0, its own shutdown message).
        let names = urls.compactMap { $0["container"] as? String }
        #expect(names.count == 2)
        try runProgram("docker", ["stop"] + names)
        for name in names {
            let exit = try runProgram("docker", ["inspect", "--format", "{{.State.ExitCode}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(exit == "0", "\(name) exited with \(exit)")
        }
        let logs = try names.map { try runProgram("docker", ["logs", "--tail", "5", $0]) }.map { $0.stdout + $0.stderr }.joined()
        #expect(logs.contains("database system is shut down") && logs.contains("Shutdown complete"), "\(logs)")
        // And starts again on the same data.
        let again = try checkout.sandbox(["up"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Clients.psql(pgURL, "select 1") == "1")
    }
}
