import Foundation
import Testing
@testable import SandboxBase
@testable import SandboxRecipes
@testable import SandboxEngine
@testable import SandboxHost
@testable import SandboxObserve
@testable import SandboxOperations

/// The pure parts of the data store and of disk usage: sizes as people read them, what doctor says per state.
@Suite struct DataStoreUnitTests {
    @Test func sizesReadTheWayTheyAreWritten() {
        #expect(DiskUsage.format(0) == "0 B")
        #expect(DiskUsage.format(1023) == "1023 B")
        #expect(DiskUsage.format(1536) == "1.5 KiB")
        #expect(DiskUsage.format(35 << 20) == "35 MiB")
        #expect(DiskUsage.format(8 << 30) == "8.0 GiB")
        #expect(DiskUsage.format(64 << 30) == "64 GiB")
    }

    @Test func doctorSaysWhatCopiesCostAndHowToChangeIt() {
        let plain = Doctor.dataCopies(.init(state: .none, reflinks: false, filesystem: "ext4"))
        #expect(plain.level == .warning && plain.message.contains("ext4") && plain.fix?.contains("sudo sandbox store create") == true)
        let native = Doctor.dataCopies(.init(state: .none, reflinks: true, filesystem: "btrfs"))
        #expect(native.level == .ok && native.message.contains("btrfs") && native.fix == nil)
        let mounted = Doctor.dataCopies(.init(state: .mounted, reflinks: true, filesystem: "xfs", sizeBytes: 64 << 30, usedBytes: 1 << 30))
        #expect(mounted.level == .ok && mounted.message.contains("1.0 GiB used of 64 GiB"))
        let unmounted = Doctor.dataCopies(.init(state: .unmounted, reflinks: false, filesystem: "ext4"))
        #expect(unmounted.level == .problem && unmounted.fix == "sudo sandbox store mount")
    }

    @Test func theStoreLivesInsideTheStateFolderItIsMountedOn() {
        let store = DataStore(checkout: Checkout(root: URL(fileURLWithPath: "/work/app")))
        #expect(store.image.path == "/work/app/.sandbox/.store.xfs")
        #expect(store.record.path == "/work/app/.sandbox/.store.json")
        #expect(DataStore.mountOptions.split(separator: ",").contains("discard"), "space freed in the store goes back to the host's disk")
        let error = Messages.storeNotMounted(image: store.checkout.display(store.image.path))
        #expect(error.code == .storeNotMounted && error.message.contains(".sandbox/.store.xfs") && error.fix?.contains("sudo sandbox store mount") == true)
    }

    /// Without shared extents (a plain copy, or a filesystem without FIEMAP) a tree holds all it takes.
    @Test func aPlainTreeHoldsAllItsBlocksAlone() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(getpid())-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 100_000).write(to: root.appendingPathComponent("a/b/one"))
        try Data(repeating: 8, count: 5_000).write(to: root.appendingPathComponent("two"))
        let usage = DiskUsage.of(root)
        #expect(usage.bytes >= 105_000 && usage.bytes < 200_000, "\(usage)")
        #expect(usage.exclusiveBytes == usage.bytes)
        #expect(DiskUsage.of(root.appendingPathComponent("missing")) == DiskUsage(bytes: 0, exclusiveBytes: 0))
    }
}

/// Registry references: what a fleet's workers ask for is fixed by the recipes alone.
@Suite struct RegistryUnitTests {
    @Test func referencesNameTheContentTheyHold() throws {
        let registry = try Registry("127.0.0.1:5000/")
        #expect(registry.address == "127.0.0.1:5000")
        #expect(registry.image(tag: "acme/postgresql-15:demo", hash: String(repeating: "ab", count: 32))
                == "127.0.0.1:5000/acme/postgresql-15:h-abababababababab")
        #expect(registry.image(tag: "acme/postgresql-15:demo") == "127.0.0.1:5000/acme/postgresql-15:demo")
        #expect(Registry.repository("localhost:5000/acme/pg:15") == "localhost:5000/acme/pg")
        #expect(Registry.repository("acme/pg") == "acme/pg")
        let a = registry.golden(owner: "Acme", sandbox: "demo", service: "pg", freshHash: "0123456789abcdef0123", updates: ["h2", "h1"])
        let b = registry.golden(owner: "acme", sandbox: "demo", service: "pg", freshHash: "0123456789abcdef0123", updates: ["h1", "h2"])
        #expect(a == b && a.hasPrefix("127.0.0.1:5000/acme/demo-golden-pg:f-0123456789abcdef-u-"), "order of the steps does not matter")
        #expect(a != registry.golden(owner: "acme", sandbox: "demo", service: "pg", freshHash: "0123456789abcdef0123", updates: ["h1"]))
        for bad in ["", "http://x:5000", "a b", "x;rm"] {
            #expect(throws: SandboxError.self) { try Registry(bad) }
        }
    }

    @Test func aRegistryImageReplacesTheBuildAndItsBase() throws {
        let fixture = try PlannerFixture()
        var planner = fixture.planner
        planner.registry = try Registry("127.0.0.1:5000")
        let tags = fixture.sandbox.images.filter { $0.recipe.bootstrap == nil }.map(\.tag)
        let pulled = planner.imageActions([:], registry: .init(images: Set(tags)))
        #expect(pulled.map(\.name) == tags.map { _ in "PullImage" })
        let offline = planner.imageActions([:], registry: .init(unreachable: "connection refused"))
        #expect(offline.contains { $0.name == "EnsureBaseImage" } && offline.filter { $0.name == "Build" }.count == tags.count)
        #expect(offline.allSatisfy { $0.name != "Build" || $0.cause.contains("did not answer") })
    }

    /// Golden data pushed before the second migration existed: pulled, and the copy runs only the step it lacks.
    @Test func pulledGoldenDataRunsOnlyTheUpdateStepsItLacks() throws {
        let fixture = try PlannerFixture()
        let steps = fixture.db.update
        try #require(steps.count == 2)
        var observed = ObservedState(ports: fixture.ports)
        observed.registry = .init(golden: ["db": .init(reference: "r/acme/shop-golden-db:x", updates: [steps[0].hash])])
        let plan = fixture.plan(observed)
        let db = plan.actions.filter { $0.target == .service("db") }.map(\.name)
        #expect(db.contains("PullGolden") && !db.contains { $0.hasPrefix("InitGolden") }, "\(db)")
        #expect(db.filter { $0.hasPrefix("RunUpdate") } == ["RunUpdate \(steps[1].title)"], "\(db)")
        let analytics = plan.actions.filter { $0.target == .service("analytics") }.map(\.name)
        #expect(analytics.contains { $0.hasPrefix("InitGolden") } && !analytics.contains("PullGolden"), "not in the registry: made here")
    }
}
