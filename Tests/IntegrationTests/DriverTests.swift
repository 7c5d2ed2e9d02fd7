import Foundation
import Testing

/// The demo's exported variables work, unchanged, with the drivers people use: libpq (psql), psycopg 3,
/// SQLAlchemy with psycopg2 and with mysqlclient, and the PostgreSQL and MariaDB JDBC drivers.
/// The probes are Tests/drivers/; their drivers come from Scripts/test-deps.
@Suite(.serialized) struct DriverTests {
    @Test func realDriversConnectWithTheDemosExportedValuesAsTheyAre() throws {
        let python = try #require(TestDeps.python), classPath = try #require(TestDeps.jdbcClassPath)
        let checkout = try DemoCheckout()
        let up = try checkout.sandbox(["up"])
        #expect(up.status == 0, "up failed: \(up.stderr)")
        let env = try checkout.env()
        #expect(env.keys.sorted() == ["ANALYTICS_GO_DSN", "ANALYTICS_JDBC_URL", "ANALYTICS_URL", "DATABASE_JDBC_URL",
                                      "DATABASE_URL", "SANDBOX_INSTANCE"])
        let pg = try #require(env["DATABASE_URL"])
        #expect(pg.hasPrefix("postgresql://sandbox:") && pg.hasSuffix("/bookmarker"), "\(pg)")
        #expect(try Clients.psql(pg, "select count(*) from bookmarks") == "3")

        let drivers = Binary.repoRoot.appendingPathComponent("Tests/drivers")
        let py = try runProgram(python, [drivers.appendingPathComponent("check.py").path], environment: env, timeout: 120)
        #expect(py.status == 0, "the Python drivers failed: \(py.stderr)")
        #expect(py.stdout == """
            psycopg: DATABASE_URL bookmarks=3
            SQLAlchemy with psycopg2: DATABASE_URL bookmarks=3
            SQLAlchemy with mysqldb: ANALYTICS_URL visits=3

            """, "\(py.stderr)")

        let java = try runProgram("java", ["-cp", classPath, drivers.appendingPathComponent("Check.java").path],
                                  environment: env, timeout: 180)
        #expect(java.status == 0, "the JDBC drivers failed: \(java.stderr)")
        #expect(java.stdout == """
            PostgreSQL JDBC Driver: DATABASE_JDBC_URL bookmarks=3
            MariaDB Connector/J: ANALYTICS_JDBC_URL visits=3

            """, "\(java.stderr)")
    }
}
