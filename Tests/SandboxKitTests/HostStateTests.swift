import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxHost
@testable import SandboxApply

/// Host state: the data switch a crash cannot split, ports, secrets, stamps and file errors. Temporary folders only.
@Suite struct HostStateTests {
    final class Folder {
        let layout: InstanceLayout
        init() throws {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("host-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("Recipes"), withIntermediateDirectories: true)
            layout = InstanceLayout(checkout: Checkout(root: root), instance: "dev")
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: layout.checkout.root) }

        func make(_ url: URL, holding text: String) throws {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try text.write(to: url.appendingPathComponent("content"), atomically: true, encoding: .utf8)
        }

        func content(_ url: URL) -> String? { try? String(contentsOf: url.appendingPathComponent("content"), encoding: .utf8) }

        var leftovers: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: layout.root.path)) ?? []).filter { $0.hasPrefix(".") }.sorted()
        }
    }

    /// What the plan's recovery actions do with what a killed command left (Planner.recovery): a journalled deletion
    /// finished, a committed switch finished, the rest discarded.
    static func recover(_ layout: InstanceLayout) throws {
        let data = DataSwitch(layout: layout)
        let found = data.leftovers()
        if found.deletion { try data.finishDeletion() }
        if let services = found.switched { try data.finishCommitted(services) }
        try data.discard(found.stale + SnapshotStore(layout: layout).leftovers())
    }

    /// What `sandbox layout` tells a harness is what the tool itself treats as a leftover: each kind named there, and
    /// made where the description says, is found by the next command.
    /// A linked git worktree (as `git worktree add` leaves it: `.git` a file, the admin folder naming it back) shares the
    /// main worktree's golden folder; a main worktree and a folder outside git keep their own.
    @Test func worktreesOfOneRepositoryShareTheMainWorktreesGoldenData() throws {
        let folder = try Folder(), base = folder.layout.checkout.root
        let main = base.appendingPathComponent("app"), linked = base.appendingPathComponent("app.previews/feature-x")
        let admin = main.appendingPathComponent(".git/worktrees/feature-x")
        for dir in [admin, linked, main.appendingPathComponent("Recipes")] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        try "gitdir: \(admin.path)\n".write(to: linked.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        try "../..\n".write(to: admin.appendingPathComponent("commondir"), atomically: true, encoding: .utf8)
        try "\(linked.path)/.git\n".write(to: admin.appendingPathComponent("gitdir"), atomically: true, encoding: .utf8)
        #expect(Checkout.mainWorktree(of: linked)?.path == main.standardizedFileURL.path)
        #expect(Checkout(root: linked).goldenRoot.standardizedFileURL.path == main.appendingPathComponent(".sandbox/golden").standardizedFileURL.path)
        #expect(Checkout(root: main).goldenRoot.path == main.appendingPathComponent(".sandbox/golden").path)
        #expect(Checkout.mainWorktree(of: main) == nil)
        #expect(Checkout.linkedWorktrees(of: main).map(\.standardizedFileURL.path) == [linked.standardizedFileURL.path])
        // A `.git` file naming an admin folder that does not name it back (an unpacked archive, a crafted checkout) shares nothing.
        let crafted = base.appendingPathComponent("crafted")
        try FileManager.default.createDirectory(at: crafted, withIntermediateDirectories: true)
        try "gitdir: \(admin.path)\n".write(to: crafted.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        #expect(Checkout.mainWorktree(of: crafted) == nil)
        #expect(Checkout(root: crafted).goldenRoot.path == crafted.appendingPathComponent(".sandbox/golden").path)
        // A worktree whose folder is gone is not listed; one of a bare repository shares nothing.
        try FileManager.default.removeItem(at: linked)
        #expect(Checkout.linkedWorktrees(of: main).isEmpty)
        let bare = base.appendingPathComponent("bare.git/worktrees/w"), other = base.appendingPathComponent("w")
        for dir in [bare, other] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        try "gitdir: \(bare.path)\n".write(to: other.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        try "../..\n".write(to: bare.appendingPathComponent("commondir"), atomically: true, encoding: .utf8)
        #expect(Checkout.mainWorktree(of: other) == nil)
    }

    @Test func theLayoutAHarnessReadsNamesEveryLeftoverTheToolFinds() throws {
        let folder = try Folder()
        let d = LayoutDescription(folder.layout, sandbox: "shop", services: ["pg"], snapshotRecord: SnapshotInfo.fileName,
                                  dataStamp: DataStamp.fileName, labels: [:])
        let pg = try #require(d.services["pg"])
        #expect(pg.dataDir == folder.layout.dataDir("pg").path && d.root == folder.layout.root.path && pg.container == "sbx-shop-\(folder.layout.checkout.id)-dev-pg")
        #expect(Set(d.leftoverSuffixes) == [".staging", ".replaced", ".upgrade"])
        for path in [pg.staging, pg.replaced, pg.upgradeWork] {
            #expect(d.leftoverSuffixes.contains { path.hasSuffix($0) }, "\(path)")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try Data().write(to: folder.layout.root.appendingPathComponent(".x\(d.temporaryMarker)1"))
        #expect(Set(DataSwitch(layout: folder.layout).leftovers().stale) == [".pg.staging", ".pg.replaced", ".pg.upgrade", ".x.tmp-1"])
    }

    @Test func aDeletedSnapshotLeavesTheListAtOnceAndAKilledDeletionIsFinished() throws {
        let f = try Folder()
        let store = SnapshotStore(layout: f.layout)
        for name in ["a", "b"] {
            try f.make(store.staging(name).appendingPathComponent("pg"), holding: name)
            try store.commit(SnapshotInfo(name: name, sandbox: "demo", services: ["pg": .init(engine: "postgresql", version: "15")],
                                          created: Date(timeIntervalSince1970: 0)))
        }
        try store.delete("a")
        #expect(store.list().map(\.name) == ["b"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.layout.snapshots.path) == ["b"])
        // Killed after the rename: out of the list already, and the next command's recovery deletes the rest.
        try FileSystem.move(store.folder("b"), to: f.layout.snapshots.appendingPathComponent(".b.deleting"))
        #expect(store.list().isEmpty)
        try Self.recover(f.layout)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.layout.snapshots.path) == [])
    }

    @Test func aCommittedSwitchReplacesEveryServiceAndKeepsTheOldUntilDeleted() throws {
        let f = try Folder()
        for s in ["pg", "maria"] {
            try f.make(f.layout.dataDir(s), holding: "old \(s)")
            try f.make(f.layout.staging(s), holding: "new \(s)")
        }
        try DataSwitch(layout: f.layout).commit(["pg", "maria"])
        #expect(f.content(f.layout.dataDir("pg")) == "new pg" && f.content(f.layout.dataDir("maria")) == "new maria")
        #expect(f.leftovers == [".maria.replaced", ".pg.replaced"])
        try DataSwitch(layout: f.layout).deleteReplaced(["pg", "maria"])
        #expect(f.leftovers == [])
    }

    /// Killed at each point of a switch of two services: the next command's recovery ends with every service old
    /// (not committed) or every service new (committed), never a mix, and no leftovers.
    @Test func recoveryFinishesACommittedSwitchAndRollsBackAnUncommittedOneFromEveryPoint() throws {
        // The steps a switch takes, in order; a crash after `done` of them.
        for done in 0...5 {
            let f = try Folder()
            for s in ["pg", "maria"] {
                try f.make(f.layout.dataDir(s), holding: "old \(s)")
                try f.make(f.layout.staging(s), holding: "new \(s)")
            }
            let committed = done >= 1
            if committed { try FileSystem.writeAtomically(Data(#"{"services":["pg","maria"]}"#.utf8), to: f.layout.switchJournal, mode: 0o600) }
            let renames: [(URL, URL)] = [(f.layout.dataDir("pg"), f.layout.replaced("pg")), (f.layout.staging("pg"), f.layout.dataDir("pg")),
                                         (f.layout.dataDir("maria"), f.layout.replaced("maria")), (f.layout.staging("maria"), f.layout.dataDir("maria"))]
            for (from, to) in renames.prefix(max(0, done - 1)) { try FileSystem.move(from, to: to) }
            // A temporary file of a killed atomic write, too.
            try Data().write(to: f.layout.root.appendingPathComponent(".instance.json.tmp-123-abcd"))
            try Self.recover(f.layout)
            let want = committed ? "new" : "old"
            #expect(f.content(f.layout.dataDir("pg")) == "\(want) pg", "crash after \(done) steps")
            #expect(f.content(f.layout.dataDir("maria")) == "\(want) maria", "crash after \(done) steps")
            #expect(f.leftovers == [], "crash after \(done) steps left \(f.leftovers)")
        }
    }

    @Test func aKilledDeletionIsFinishedAndKeepsSnapshots() throws {
        let f = try Folder()
        try f.make(f.layout.dataDir("maria"), holding: "old maria")
        try f.make(f.layout.snapshots.appendingPathComponent("monday"), holding: "saved")
        try Data("x".utf8).write(to: f.layout.envFile)
        // Killed after the journal and after pg was deleted: maria is still there.
        try FileManager.default.createDirectory(at: f.layout.deletionJournal.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: f.layout.deletionJournal)
        try Self.recover(f.layout)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.layout.root.path) == ["snapshots"])
        #expect(f.content(f.layout.snapshots.appendingPathComponent("monday")) == "saved")
        #expect(!FileSystem.exists(f.layout.deletionJournal))
    }

    @Test func aSwitchWithAMissingStagedDirIsRefusedBeforeAnythingMoves() throws {
        let f = try Folder()
        try f.make(f.layout.dataDir("pg"), holding: "old pg")
        try f.make(f.layout.staging("pg"), holding: "new pg")
        #expect(throws: SandboxError.self) { try DataSwitch(layout: f.layout).commit(["pg", "maria"]) }
        #expect(f.content(f.layout.dataDir("pg")) == "old pg")
        #expect(!FileSystem.exists(f.layout.switchJournal))
    }

    @Test func stampsAreReadyMissingForeignOrDamaged() throws {
        let f = try Folder()
        let dir = f.layout.dataDir("pg")
        #expect(DataStamp.inspect(dir) == .missing)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(DataStamp.inspect(dir) == .missing)
        try Data("x".utf8).write(to: dir.appendingPathComponent("PG_VERSION"))
        #expect(DataStamp.inspect(dir) == .foreign)
        try Data("{not json".utf8).write(to: dir.appendingPathComponent(DataStamp.fileName))
        #expect(DataStamp.inspect(dir) == .damaged("its stamp .sandbox-data.json cannot be read"))
        let stamp = DataStamp(engine: "postgresql", version: "15", imageHash: "i", freshHash: "f", setupHash: "s", user: "u", password: "p", updates: [:])
        try stamp.write(to: dir)
        #expect(DataStamp.inspect(dir) == .ready(stamp))
    }

    @Test func secretsAreMadeOnceKeptPrivateAndDifferPerService() throws {
        let f = try Folder()
        let pg = try InstanceSecrets.password(for: "pg", f.layout)
        #expect(pg.count == 24 && pg.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(try InstanceSecrets.password(for: "pg", f.layout) == pg)
        #expect(try InstanceSecrets.password(for: "maria", f.layout) != pg)
        let mode = try FileManager.default.attributesOfItem(atPath: f.layout.secretsFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func servicesMakingTheirPasswordsAtOnceLoseNone() async throws {
        let f = try Folder()
        let layout = f.layout
        let made = await withTaskGroup(of: (String, String).self) { group in
            for n in 0..<16 { group.addTask { ("svc\(n)", (try? InstanceSecrets.password(for: "svc\(n)", layout)) ?? "") } }
            var all: [String: String] = [:]
            for await (name, password) in group { all[name] = password }
            return all
        }
        #expect(made.count == 16 && made.values.allSatisfy { $0.count == 24 })
        #expect(InstanceSecrets.read(layout).passwords == made)
    }

    @Test func fileErrorsNameTheCause() {
        let folder = URL(fileURLWithPath: "/data/x")
        #expect(FileSystem.error(ENOSPC, folder, doing: "copy data into").code == .diskFull)
        #expect(FileSystem.error(ENOSPC, folder, doing: "copy data into").message
                == "cannot copy data into /data/x: the disk is full (No space left on device)")
        #expect(FileSystem.error(EROFS, folder, doing: "write in").code == .dataDirNotWritable)
        #expect(FileSystem.error(EPERM, folder, doing: "write in").fix == Messages.notWritable("/data/x"))
        #expect(FileSystem.error(EIO, folder, doing: "write in").code == .io)
        #expect(DataCopy.failure("cp: error writing '/x/y': No space left on device", folder).code == .diskFull)
        #expect(DataCopy.failure("cp: cannot create directory '/x': Read-only file system", folder).code == .dataDirNotWritable)
    }

    @Test func portPicksAreStableAndAvoidWhatTheRunTook() throws {
        let a = try #require(Ports.pick(seed: "checkout/dev/pg"))
        #expect(Ports.pick(seed: "checkout/dev/pg") == a)
        #expect((20000..<40000).contains(a))
        let b = try #require(Ports.pick(seed: "checkout/dev/pg", avoid: [a]))
        #expect(b != a && (b - a + 20000) % 7 == 0 || b != a)
        #expect(Ports.pick(seed: "checkout/dev/maria") != a)
    }

    @Test func aPortWhoseLastOwnerLeftConnectionsInTimeWaitIsFree() throws {
        let port: Int
        do {
            let listener = try TCPListener()
            port = listener.port
            #expect(!Ports.isFree(port))
            // A connection the server side closes first: its socket on the listener's port goes to TIME_WAIT.
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            let server = accept(listener.fd, nil, nil)
            close(server)
            var byte: UInt8 = 0
            _ = read(client, &byte, 1)
            close(client)
        }
        #expect(Ports.isFree(port), "a port in TIME_WAIT only is free for a new listener")
    }
}
