import Foundation
import Testing

/// The data store: `.sandbox/` on a loop-mounted XFS image with reflinks, so copies of data are clones.
/// Needs root and mkfs.xfs (Scripts/test-deps installs xfsprogs); CI runs as root.
@Suite(.serialized) struct StoreTests {
    static func json(_ text: String) -> [String: Any] {
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }

    static func isMountPoint(_ url: URL) -> Bool {
        var here = stat(), parent = stat()
        return stat(url.path, &here) == 0 && stat(url.deletingLastPathComponent().path, &parent) == 0 && here.st_dev != parent.st_dev
    }

    @Test func storeMakesCopiesClonesKeepsTheDataAndComesBackAfterARestart() throws {
        try #require(geteuid() == 0, "the data store needs root (a loop mount); run the integration tests as root, as CI does")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.xfs") || FileManager.default.isExecutableFile(atPath: "/sbin/mkfs.xfs"),
                     "mkfs.xfs is missing: Scripts/test-deps installs xfsprogs")
        let checkout = try DemoCheckout()
        let state = checkout.root.appendingPathComponent(".sandbox")
        #expect(try checkout.sandbox(["up"]).status == 0)
        let url = try #require(try checkout.env()["DATABASE_URL"])
        _ = try Clients.psql(url, "insert into bookmarks (url, title) values ('before-store', 'kept')")

        // On ext4, status and doctor say copies are full copies and how to change it.
        let plain = Self.json(try runProgram(Binary.path, ["store", "status", "--json"], cwd: checkout.root).stdout)
        let plainStatus = plain["status"] as? [String: Any] ?? [:]
        #expect(plainStatus["state"] as? String == "none" && plainStatus["reflinks"] as? Bool == false, "\(plain)")

        // Refused while an instance runs: its containers hold the folders that would move.
        let refused = try runProgram(Binary.path, ["store", "create", "--size", "6G"], cwd: checkout.root)
        #expect(refused.status == 1 && refused.stderr.contains("running") && refused.stderr.contains("fix:"), "\(refused.stderr)")
        #expect(!Self.isMountPoint(state) && !FileManager.default.fileExists(atPath: state.appendingPathComponent(".store.xfs").path))

        #expect(try checkout.sandbox(["down"]).status == 0)
        let created = try runProgram(Binary.path, ["store", "create", "--size", "6G"], cwd: checkout.root)
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(Self.isMountPoint(state))
        let status = Self.json(try runProgram(Binary.path, ["store", "status", "--json"], cwd: checkout.root).stdout)["status"] as? [String: Any] ?? [:]
        #expect(status["state"] as? String == "mounted" && status["reflinks"] as? Bool == true, "\(status)")

        // The instance's data moved with it; a second instance is a clone of the golden data.
        #expect(try checkout.sandbox(["up"]).status == 0)
        #expect(try Clients.psql(url, "select count(*) from bookmarks where title = 'kept'") == "1")
        #expect(try checkout.sandbox(["up"], instance: "b").status == 0)
        let b = try #require(try checkout.env("b")["DATABASE_URL"])
        #expect(try Clients.psql(b, "select count(*) from bookmarks") == "3")

        // A snapshot shares its blocks with the instance: what it alone holds is a small part of its size.
        #expect(try checkout.sandbox(["snapshot", "save", "s1"]).status == 0)
        let listing = Self.json(try checkout.sandbox(["snapshot", "ls", "--json"]).stdout)
        let snapshot = try #require((listing["snapshots"] as? [[String: Any]])?.first)
        let bytes = try #require(snapshot["bytes"] as? Int), alone = try #require(snapshot["exclusiveBytes"] as? Int)
        #expect(bytes > 20_000_000 && alone * 4 < bytes, "a clone should share most of its \(bytes) bytes; it holds \(alone) alone")
        _ = try Clients.psql(url, "insert into bookmarks (url, title) values ('after-snapshot', 'gone after restore')")
        #expect(try checkout.sandbox(["snapshot", "restore", "s1"]).status == 0)
        #expect(try Clients.psql(url, "select count(*) from bookmarks where title in ('kept', 'gone after restore')") == "1")
        let deleted = try checkout.sandbox(["snapshot", "delete", "s1", "--json"])
        #expect(deleted.status == 0 && (Self.json(deleted.stdout)["freedBytes"] as? Int).map { $0 < bytes } == true, "\(deleted.stdout)\(deleted.stderr)")
        #expect(try checkout.sandbox(["reset"], instance: "b").status == 0)
        #expect(try Clients.psql(b, "select count(*) from bookmarks") == "3")

        // A restart: the store is not mounted. A normal user is refused with the fix, and nothing is written beneath.
        #expect(try checkout.sandbox(["down"]).status == 0 && checkout.sandbox(["down"], instance: "b").status == 0)
        #expect(try runProgram("umount", [state.path]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.path) == [".store.xfs"])
        _ = try runProgram("chmod", ["o+rx", checkout.root.path])
        let asUser = try runProgram("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Binary.path, "up", "--instance", "dev"], cwd: checkout.root)
        #expect(asUser.status == 1 && asUser.stderr.contains("sudo sandbox store mount"), "\(asUser.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.path) == [".store.xfs"])
        // Root mounts it again on the next command, and the data is all there.
        #expect(try checkout.sandbox(["up"]).status == 0)
        #expect(Self.isMountPoint(state))
        #expect(try Clients.psql(url, "select count(*) from bookmarks where title = 'kept'") == "1")
        #expect(try checkout.sandbox(["destroy", "--delete-data"], instance: "b").status == 0)
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("b").path))
    }
}
