import Foundation
import Testing

/// The forms the page offers to copy come from the image recipe's `connect`: the tool names no engine.
@Suite struct ConnectionFormTests {
    @Test func theStockFormsRenderForTheHostWithThePasswordHiddenUntilAsked() throws {
        let rendered = try StockActionTests.rendered()
        let pg = try rendered.service("pg"), maria = try rendered.service("maria")
        let hidden = rendered.rendering.connections(pg, masked: true)
        #expect(hidden.map(\.name) == ["URL — psql, psycopg, SQLAlchemy, node-postgres, Go pgx, Rails",
                                       "JDBC — Java, Kotlin, DBeaver, IntelliJ", "Settings"])
        #expect(hidden[1].value == "jdbc:postgresql://127.0.0.1:15432/postgres?user=sandbox&password=***")
        #expect(rendered.rendering.url(pg, masked: true) == "postgresql://sandbox:***@127.0.0.1:15432/postgres")
        #expect(rendered.rendering.connections(pg, masked: false)[2].value
                == "host 127.0.0.1  port 15432  user sandbox  password old'pw  database postgres")
        let mariaForms = rendered.rendering.connections(maria, masked: true)
        #expect(mariaForms.map(\.value).contains("sandbox:***@tcp(127.0.0.1:13306)/"))
        #expect(!mariaForms.map(\.value).joined().contains("old'pw"))
    }

    @Test func aFormNamedTwiceOrQuotingForSQLIsRefused() throws {
        let text = try diagnose(kvService("""
            connect:
              - {name: URL, value: "kv://{host}:{port}"}
              - {name: URL, value: "kv://{host}"}
              - {name: CLI, value: "kv-cli -h {host} -u {user|literal}"}
              - {name: Other, value: "kv://{data}"}
            """))
        #expect(text.contains("'connect' names 'URL' twice; each form has its own name"), "\(text)")
        #expect(text.contains("'{user|literal}' quotes for SQL, which has no place in a 'connect' value; write {user}"), "\(text)")
        #expect(text.contains("unknown reference '{data}' in a 'connect' value"), "\(text)")
    }
}
