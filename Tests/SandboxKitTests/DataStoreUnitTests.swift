import Foundation
import Testing
@testable import SandboxKit

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
