// Connects to the demo sandbox with the JDBC drivers, using the exported JDBC URLs exactly as `sandbox env`
// gives them, and prints one line per driver: `DRIVER: VARIABLE TABLE=COUNT` (the driver's version goes to standard
// error). A single-file program:
//
//   eval "$(sandbox env)" && java -cp /usr/share/java/postgresql.jar:/usr/share/java/mariadb-java-client.jar Tests/drivers/Check.java
//
// Run by Tests/IntegrationTests/DriverTests.swift with the drivers Scripts/test-deps installs.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;

public class Check {
    public static void main(String[] args) throws Exception {
        count("DATABASE_JDBC_URL", "bookmarks");
        count("ANALYTICS_JDBC_URL", "visits");
    }

    static void count(String variable, String table) throws Exception {
        String url = System.getenv(variable);
        if (url == null) throw new IllegalStateException(variable + " is not set");
        try (Connection conn = DriverManager.getConnection(url);
             ResultSet rs = conn.createStatement().executeQuery("select count(*) from " + table)) {
            rs.next();
            var meta = conn.getMetaData();
            System.err.println(meta.getDriverName() + " " + meta.getDriverVersion());
            System.out.println(meta.getDriverName() + ": " + variable + " " + table + "=" + rs.getLong(1));
        }
    }
}
